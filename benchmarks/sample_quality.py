"""Sample quality of trained MNIST models, with the held-out real digits as the ceiling.

Every model draws 1,000 samples (seed 0; a conditional model's labels cycle through 0-9) and is
scored against the 4,000 training digits of `mnist_5k` in the feature space of the reference
classifier (`kgan.metrics.domain_extractor`): domain FID, KID, improved precision/recall (k=3),
density/coverage (k=5) and, for conditional models, class consistency. The 1,000 held-out real
digits, scored the same way, are the ceiling a perfect generator would reach with 1,000 samples.

    python benchmarks/sample_quality.py                      # trains the default cGAN, 40 epochs
    python benchmarks/sample_quality.py --runs cgan=runs/cgan_mnist vae=runs/vae_mnist
    python benchmarks/sample_quality.py --presets gan_mnist cgan_mnist wgan_gp_mnist vae_mnist \
        vaegan_mnist                                         # the zoo's MNIST presets
    python benchmarks/sample_quality.py --presets vae_mnist vaegan_mnist bigan_mnist \
        infogan_mnist clustergan_mnist --learned-sampling \
        --out benchmarks/results/sample_quality_learned_sampling.json

Every row also shows the class balance of the samples (the reference classifier's histogram
against uniform: `class_kl`, `smallest_class`), so an unconditional model that drops a digit
shows it; with --learned-sampling, the models with an encoder get a second row sampling ex post
and the code GANs one drawing their clusters in the data's proportions.

Targets: conditional GAN >= 98% class consistency, domain FID within 2x of the held-out real FID;
a generator trained without labels within 2.5x, precision and recall >= 0.75, class_kl <= 0.02.

A conditional GAN trained on discovered clusters instead of labels (`cluster_cgan_mnist`, its
recipe in zoo/recipes/) is scored as an unconditional generator (its samples cycle through the
clusters) with --clusters-as-classes: its consistency is that of its clusters after the best
one-to-one match of clusters to digits.

    python benchmarks/sample_quality.py --presets cluster_cgan_mnist \
        --clusters-as-classes cluster_cgan_mnist \
        --out benchmarks/results/sample_quality_cluster_cgan.json

The committed results/sample_quality.json scores the default cGAN trained by this script (40
epochs, 482 s on 2 shared CPU cores), a cGAN trained 200 epochs with the `kgan` command, and the
zoo's five MNIST presets (their recipes are in zoo/recipes/; `cgan_mnist` is the 200-epoch
recipe run for 300 epochs):

    kgan train cgan --data mnist_5k --epochs 200 --ema-decay 0.999 --lr-decay cosine \
        --out runs/cgan_mnist_cos200
    python benchmarks/sample_quality.py --runs "cgan (40 epochs)=runs/sample_quality_cgan" \
        "cgan + EMA 0.999, cosine (200 epochs)=runs/cgan_mnist_cos200" \
        --presets gan_mnist cgan_mnist wgan_gp_mnist vae_mnist vaegan_mnist
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
from kgan.callbacks import RunCheckpoint, load_run  # noqa: E402
from kgan.metrics.evaluate import generate_for_evaluation, score_features  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
METRICS = ("fid", "kid", "pr", "dc", "is", "consistency", "balance")
COLUMNS = (
    "class_kl",
    "smallest_class",
    "fid",
    "kid",
    "precision",
    "recall",
    "density",
    "coverage",
    "inception_score",
    "consistency",
)


def train_default(folder, epochs):
    """Trains the default conditional GAN into a run folder; returns (model, seconds)."""
    keras.utils.set_random_seed(0)
    model = kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10, seed=0)
    model.compile()
    data = kgan.data.load("mnist_5k", batch_size=64, seed=0, drop_remainder=True)
    start = time.perf_counter()
    model.fit(data, epochs=epochs, callbacks=[RunCheckpoint(folder)], verbose=2)
    return model, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", nargs="*", default=[], help="name=run_folder_or_keras_file")
    parser.add_argument(
        "--presets", nargs="*", default=[], help="zoo presets to score, e.g. gan_mnist vae_mnist"
    )
    parser.add_argument("--epochs", type=int, default=40, help="epochs of the default cGAN")
    parser.add_argument("--run-dir", default="runs/sample_quality_cgan", help="its run folder")
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument(
        "--learned-sampling",
        action="store_true",
        help="also score every model with an encoder (VAE, VAE-GAN, BiGAN) sampling ex post "
        "(latents from a Gaussian mixture of its codes of the training digits, fit_ex_post) and "
        "every code GAN (InfoGAN, ClusterGAN) drawing its clusters in the proportions found in "
        "the training digits (fit_cluster_proportions)",
    )
    parser.add_argument(
        "--clusters-as-classes",
        nargs="*",
        default=[],
        metavar="PRESET",
        help="presets among --presets whose classes are discovered clusters, not digits (a "
        "conditional GAN trained on a clustering, e.g. cluster_cgan_mnist): they are scored as "
        "unconditional generators, their consistency after the best one-to-one match of "
        "clusters to digits (Hungarian, kgan.cluster.clustering_accuracy)",
    )
    parser.add_argument("--out", default=os.path.join(RESULTS, "sample_quality.json"))
    args = parser.parse_args(argv)
    if set(args.clusters_as_classes) - set(args.presets):
        parser.error("--clusters-as-classes names presets that --presets scores")

    extractor = kgan.metrics.domain_extractor("mnist_5k")
    train_images, _ = kgan.data.load_arrays("mnist_5k", split="train")
    test_images, test_labels = kgan.data.load_arrays("mnist_5k", split="test")
    real_features = extractor(train_images)
    rows = {}
    held_features, held_logits = extractor.features_and_logits(test_images)
    rows["held-out real digits"] = score_features(
        real_features, held_features, METRICS, fake_logits=held_logits, labels=test_labels
    )

    models = {}
    training = {}
    for spec in args.runs:
        name, _, path = spec.partition("=")
        if not path:
            sys.exit(f"--runs takes name=path; got {spec!r}")
        if os.path.isdir(path):
            models[name], state = load_run(path)
            training[name] = {"epochs": state["epoch"], "run": path}
        else:
            models[name] = keras.saving.load_model(path)
    for preset in args.presets:
        name = f"preset {preset}"
        models[name] = kgan.zoo.load(preset, verbose=False)
        training[name] = {"preset": preset}
    if not models:
        model_path = os.path.join(args.run_dir, RunCheckpoint.MODEL_FILE)
        name = f"cgan ({args.epochs} epochs)"
        models[name], seconds = train_default(args.run_dir, args.epochs)
        training[name] = {"epochs": args.epochs, "seconds": round(seconds, 1), "run": model_path}

    clustered = {f"preset {preset}" for preset in args.clusters_as_classes}
    for name, model in models.items():
        by_class = model.conditional and name not in clustered
        metrics = [m for m in METRICS if m != "consistency" or by_class]
        if args.learned_sampling and callable(getattr(model, "set_sampling", None)):
            # The plain row samples as the model was trained to: the prior, clusters uniform.
            model.set_sampling(model.samplings[0] if hasattr(model, "samplings") else "prior")
        rows[name] = kgan.metrics.evaluate_model(
            model, "mnist_5k", metrics, num_samples=args.num_samples, extractor=extractor
        )
        if name in clustered:
            # The samples evaluate_model drew (seed 0, classes cycled), read by the classifier.
            images, classes = generate_for_evaluation(model, args.num_samples, seed=0)
            digits = np.argmax(extractor.features_and_logits(images)[1], axis=1)
            rows[name]["consistency"] = kgan.cluster.clustering_accuracy(digits, classes)
            training[name]["classes"] = "discovered clusters (consistency after matching)"
        learned = None
        if args.learned_sampling and callable(getattr(model, "fit_ex_post", None)):
            # Ghosh et al. 2020: the mixture of the training digits' codes (a BiGAN's has its
            # num_clusters components, the others 10).
            model.fit_ex_post(train_images, getattr(model, "num_clusters", 10))
            learned = "ex_post"
        elif args.learned_sampling and callable(getattr(model, "fit_cluster_proportions", None)):
            model.fit_cluster_proportions(train_images)
            learned = "proportional"
        if learned:
            rows[f"{name} {learned}"] = kgan.metrics.evaluate_model(
                model, "mnist_5k", metrics, num_samples=args.num_samples, extractor=extractor
            )
            training[f"{name} {learned}"] = {**training.get(name, {}), "sampling": learned}

    ceiling = rows["held-out real digits"]["fid"]
    print(
        f"\nfeatures: {extractor.name} (reference classifier test accuracy "
        f"{extractor.accuracy:.4f}); real reference: {len(train_images)} training digits"
    )
    print(f"{'model':32s}" + "".join(f"{c[:11]:>12s}" for c in COLUMNS) + f"{'FID/ceiling':>12s}")
    for name, row in rows.items():
        cells = "".join(
            f"{row[c]:12.4f}" if isinstance(row.get(c), float) else f"{'-':>12s}" for c in COLUMNS
        )
        print(f"{name[:32]:32s}{cells}{row['fid'] / ceiling:12.2f}")

    targets = {}
    for name, row in rows.items():
        if name == "held-out real digits":
            continue
        targets[name] = {
            "fid_within_2x_of_held_out": bool(row["fid"] <= 2 * ceiling),
            # The target of generators that learn without labels.
            "fid_within_2.5x_of_held_out": bool(row["fid"] <= 2.5 * ceiling),
            "consistency_at_least_0.98": (
                bool(row["consistency"] >= 0.98) if "consistency" in row else None
            ),
        }
    result = {
        "features": extractor.name,
        "classifier_test_accuracy": extractor.accuracy,
        "real_reference": "mnist_5k train split (4,000 digits)",
        "num_samples": args.num_samples,
        "held_out_fid_ceiling": ceiling,
        "rows": {
            name: {k: v for k, v in row.items() if isinstance(v, float | int | str)}
            for name, row in rows.items()
        },
        "training": training,
        "targets": targets,
        "python": sys.version.split()[0],
        "keras": keras.__version__,
        "numpy": np.__version__,
    }
    atomic_write_json(args.out, result)
    print(f"\nwrote {args.out}")
    for name, target in targets.items():
        print(f"{name}: {target}")


if __name__ == "__main__":
    main()
