"""Stacked MNIST: mode collapse on 1,000 modes, kgan's GANs beside the published rows.

`stacked_mnist_5k` stacks three independent `mnist_5k` training digits as the channels of a
28x28x3 image (20,000 examples; `kgan.data`), so the data has 1,000 modes, one per digit triple.
Each variant trains `kgan.models.build_trainer`'s DCGAN-style networks on it and is scored with
`kgan.metrics.stacked_mnist_modes` on 26,000 samples, as in the papers: the modes captured (the
reference `mnist_5k` classifier reads each channel) and the reverse KL between the mode
histogram and the uniform one. Real data is scored too: the test split (2,000 images cannot
show all 1,000 modes), the training split, and 26,000 training images drawn with replacement,
which is what a generator that reproduced the training data exactly would score: its KL holds
the sampling noise of the 20,000 training triples as well as that of the 26,000 samples
(about (1000 - 1) / (2 n) each for n draws), the floor a model of this data sits on.

Published (Stacked MNIST from the full MNIST, 26,000 samples): VEEGAN 150 modes / KL 2.95
(Srivastava et al. 2017), PacDCGAN2 1,000 / 0.06-0.07 (Lin et al. 2018), GDPP with WGAN-GP
995 / 0.148 (Elfeki et al. 2019).

Variants: `gan` (kgan's defaults), `pacgan` (pack 2), `gan_recipe` (the `gan_mnist` preset's
recipe: generator EMA 0.999, both learning rates on a cosine decay to 1% over the run),
`pacgan_recipe` (the same with pack 2), `gan_recipe_drs` (`gan_recipe`, scored also on samples
that its discriminator accepts, `*_drs`: discriminator rejection sampling, Azadi et al. 2019, at
kgan's default 5th percentile) and `infogan_codes` (the same recipe on an InfoGAN whose
latent holds three independent Cat(10) codes, `categorical_codes=3`, and no continuous code:
Q must read each code back from the sample, so the generator learns 1,000 distinguishable
kinds of image, drawn uniformly; nothing tells it which code goes with which channel). A
model with categorical codes is scored on samples whose clusters are drawn independently
and uniformly, as the papers draw latents, and also (`*_cycled` in the results) on
`generate`'s own draw, which cycles the clusters (26 samples of each of 1,000). `--seeds`
trains each variant once per seed; the table gives each seed's row, and the mean of the modes
and of the KL over seeds.

`vae_ex_post` is a VAE (`kgan.VAE`, Bernoulli likelihood, 32-d codes, cosine decay) sampled ex
post (Ghosh et al. 2020): after training, `fit_ex_post` fits a 100-component Gaussian mixture
on the encoder's codes of the training triples and `generate` decodes samples of it; the same
model's samples of the N(0, I) prior are scored too (`*_prior`). Its time counts the training
and the mixture's fit. `vae_ex_post_300` is the same model, trained alike, with a mixture of 300
components fitted once (`n_init=1`) instead of 100 fitted three times.
`--train-examples N` trains on N triples of the 4,000 training digits instead of the default
20,000 (`kgan.data.load(..., num_examples=N)`: more draws of the same digits, so the training
triples themselves sit closer to uniform), and the real rows read the same N.

    python benchmarks/stacked_mnist.py                          # every variant, 10 epochs
    python benchmarks/stacked_mnist.py --variants gan --epochs 3 --num-samples 2600  # short
    python benchmarks/stacked_mnist.py --variants gan_recipe pacgan_recipe --epochs 25 \
        --out benchmarks/results/stacked_mnist_recipe.json
    python benchmarks/stacked_mnist.py --variants --out benchmarks/results/stacked_mnist_real.json
    python benchmarks/stacked_mnist.py --variants infogan_codes --epochs 25 --seeds 0 1 2 \
        --out benchmarks/results/stacked_mnist_infogan_codes.json
    python benchmarks/stacked_mnist.py --variants gan_recipe_drs --epochs 100 \
        --out benchmarks/results/stacked_mnist_gan_recipe_drs_100.json
    python benchmarks/stacked_mnist.py --variants vae_ex_post --epochs 10 --seeds 0 1 2 \
        --train-examples 100000 --out benchmarks/results/stacked_mnist_vae_ex_post.json
    python benchmarks/stacked_mnist.py --variants vae_ex_post_300 --epochs 10 --seeds 0 1 2 \
        --train-examples 100000 --out benchmarks/results/stacked_mnist_vae_ex_post_300.json
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kgan  # noqa: E402
from kgan.atomic import atomic_write_json  # noqa: E402

STACKED_TRAIN = kgan.data.info("stacked_mnist_5k").num_examples["train"]  # the default split
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
PUBLISHED = {
    "VEEGAN (Srivastava et al. 2017)": {"modes_captured": 150, "reverse_kl": 2.95},
    "PacDCGAN2 (Lin et al. 2018)": {"modes_captured": 1000, "reverse_kl": "0.06-0.07"},
    "GDPP, WGAN-GP (Elfeki et al. 2019)": {"modes_captured": 995, "reverse_kl": 0.148},
}
# Variant -> the trainer ("gan" when not said), its build options for
# `kgan.models.build_trainer` and whether both learning rates decay along a cosine over the run.
VARIANTS = {
    "gan": {"options": {}},
    "pacgan": {"options": {"pack": 2}},
    "gan_recipe": {"options": {"ema_decay": 0.999}, "cosine_decay": True},
    "pacgan_recipe": {"options": {"pack": 2, "ema_decay": 0.999}, "cosine_decay": True},
    "gan_recipe_drs": {
        "options": {"ema_decay": 0.999},
        "cosine_decay": True,
        "rejection": True,
    },
    "infogan_codes": {
        "trainer": "infogan",
        "options": {
            "num_clusters": 10,
            "categorical_codes": 3,
            "num_continuous": 0,
            "ema_decay": 0.999,
        },
        "cosine_decay": True,
    },
    # A VAE (Bernoulli likelihood, 32-d codes) sampled ex post: a Gaussian mixture of the
    # encoder's codes of the training data, decoded (Ghosh et al. 2020); the prior's samples
    # are scored too (`*_prior`).
    "vae_ex_post": {
        "trainer": "vae",
        "options": {"latent_dim": 32},
        "cosine_decay": True,
        "ex_post": 100,
    },
    # The same VAE (the same training, seed for seed) with 300 components fitted once
    # (`n_init=1`) instead of 100 fitted three times.
    "vae_ex_post_300": {
        "trainer": "vae",
        "options": {"latent_dim": 32},
        "cosine_decay": True,
        "ex_post": 300,
        "ex_post_options": {"n_init": 1},
    },
}


def run_variant(name, epochs, num_samples, seed, train_examples=None):
    keras.utils.set_random_seed(seed)
    variant = VARIANTS[name]
    trainer = variant.get("trainer", "gan")
    model = kgan.models.build_trainer(trainer, (28, 28, 3), seed=seed, **variant["options"])
    data = kgan.data.load(
        "stacked_mnist_5k",
        batch_size=64,
        seed=seed,
        drop_remainder=True,
        num_examples=train_examples,
    )
    steps = int(data.cardinality()) * epochs if variant.get("cosine_decay") else None
    model.compile(**model.default_optimizers(cosine_decay_steps=steps))
    started = time.perf_counter()
    model.fit(data, epochs=epochs, verbose=2)
    seconds = time.perf_counter() - started
    prior = None
    if variant.get("ex_post"):
        prior = kgan.metrics.stacked_mnist_modes(model.generate(num_samples, seed=seed))
        x_train, _ = kgan.data.load_arrays("stacked_mnist_5k", num_examples=train_examples)
        started = time.perf_counter()  # the run's time: training and the mixture's fit
        model.fit_ex_post(
            x_train, n_components=variant["ex_post"], **variant.get("ex_post_options", {})
        )
        seconds += time.perf_counter() - started
    if hasattr(model, "cluster_latents"):
        # Clusters drawn independently and uniformly, as the papers draw latents.
        clusters = np.random.default_rng([seed, 2]).integers(0, model.num_clusters, num_samples)
        scores = kgan.metrics.stacked_mnist_modes(model.generate(clusters=clusters, seed=seed))
        cycled = kgan.metrics.stacked_mnist_modes(model.generate(num_samples, seed=seed))
        scores.update({f"{key}_cycled": value for key, value in cycled.items()})
    else:
        scores = kgan.metrics.stacked_mnist_modes(model.generate(num_samples, seed=seed))
    if variant.get("rejection"):
        # The same model's samples filtered by its discriminator (the default 5th percentile).
        kept, accepted = kgan.models.discriminator_rejection_sample(
            model, num_samples, seed=seed, return_acceptance=True
        )
        drs = {**kgan.metrics.stacked_mnist_modes(kept), "acceptance": accepted}
        scores.update({f"{key}_drs": value for key, value in drs.items()})
    if prior is not None:
        scores.update({f"{key}_prior": value for key, value in prior.items()})
    return {
        **scores,
        "seconds": round(seconds, 1),
        "epochs": epochs,
        "seed": seed,
        "train_examples": train_examples or STACKED_TRAIN,
    }


def real_rows(num_samples, seed=0, train_examples=None):
    """The classifier's reading of real data: the test split, the training split, and
    `num_samples` training images drawn with replacement, the score of a generator that
    reproduces the training data exactly (its histogram carries the sampling noise of the
    training triples' draws as well as that of `num_samples`)."""
    x_test, _ = kgan.data.load_arrays("stacked_mnist_5k", split="test")
    x_train, _ = kgan.data.load_arrays("stacked_mnist_5k", num_examples=train_examples)
    drawn = np.random.default_rng(seed).integers(0, len(x_train), num_samples)
    return {
        "real test split (2,000)": kgan.metrics.stacked_mnist_modes(x_test),
        f"real training split ({len(x_train):,})": kgan.metrics.stacked_mnist_modes(x_train),
        f"real training split, {num_samples:,} drawn with replacement": (
            kgan.metrics.stacked_mnist_modes(x_train[drawn])
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--variants",
        nargs="*",
        default=list(VARIANTS),
        choices=VARIANTS,
        help="variants to train; none scores the real data alone",
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--num-samples", type=int, default=26000)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument(
        "--train-examples",
        type=int,
        default=None,
        help="training triples (drawn from the 4,000 training digits; 20,000 when not given)",
    )
    parser.add_argument("--out", default=os.path.join(RESULTS, "stacked_mnist.json"))
    args = parser.parse_args(argv)
    rows = real_rows(args.num_samples, train_examples=args.train_examples)
    results = {"settings": vars(args), "published": PUBLISHED, "rows": rows}
    runs = {name: [] for name in args.variants}
    for name in args.variants:
        for seed in args.seeds:
            row = f"{name} (seed {seed})" if len(args.seeds) > 1 else name
            rows[row] = run_variant(name, args.epochs, args.num_samples, seed, args.train_examples)
            runs[name].append(rows[row])
            print(row, rows[row], flush=True)
            atomic_write_json(args.out, results)
    print("\n| model | modes (of 1,000) | reverse KL | confidence | s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, row in rows.items():
        seconds = row.get("seconds", "")
        print(
            f"| {name} | {row['modes_captured']} | {row['reverse_kl']:.3f} | "
            f"{row['confidence']:.3f} | {seconds} |"
        )
        if "modes_captured_prior" in row:
            print(
                f"| {name}, decoded from the prior | {row['modes_captured_prior']} | "
                f"{row['reverse_kl_prior']:.3f} | {row['confidence_prior']:.3f} | |"
            )
        if "modes_captured_drs" in row:
            print(
                f"| {name}, rejection sampling (accepts {row['acceptance_drs']:.0%}) | "
                f"{row['modes_captured_drs']} | {row['reverse_kl_drs']:.3f} | "
                f"{row['confidence_drs']:.3f} | |"
            )
    for name, seeded in runs.items() if len(args.seeds) > 1 else ():
        modes = np.mean([r["modes_captured"] for r in seeded])
        kl = [r["reverse_kl"] for r in seeded]
        print(
            f"| {name}, mean of {len(seeded)} seeds | {modes:.0f} | {np.mean(kl):.3f} "
            f"(max {max(kl):.3f}) | | |"
        )
    for name, row in PUBLISHED.items():
        print(f"| {name} (published) | {row['modes_captured']} | {row['reverse_kl']} | | |")
    atomic_write_json(args.out, results)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
