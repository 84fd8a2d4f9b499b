"""Mode coverage on the 2-D mixtures ring8 and grid25: kgan's adversarial trainers beside the
published figures of VEEGAN, GDPP and PacGAN.

Each variant trains `kgan.models.build_trainer`'s MLPs (generator 3x128 units from a 2-D latent,
discriminator 3x256) on the 100,000 training points of a mixture, for several seeds, and is
scored with `kgan.metrics.mode_coverage` on 2,500 generated points: modes captured, % high
quality (within 3 std of the nearest mode) and the reverse KL between the histogram of nearest
modes and the uniform one; also the spread of the high-quality samples around their mode,
relative to the mixture's std, which shows whether a sampler narrows the modes.

    python benchmarks/mode_coverage.py                       # every variant, 3 seeds
    python benchmarks/mode_coverage.py --variants gan --seeds 0 1 2 3 4
    python benchmarks/mode_coverage.py --quick                # one seed, few steps (smoke run)
    python benchmarks/mode_coverage.py --datasets grid25 --variants gan_r1_lazy_refine \
        --seeds 0 1 2 3 4 --update --out benchmarks/results/mode_coverage_grid25.json
    python benchmarks/mode_coverage.py --datasets grid25 --variants gan_r1_lazy_drs --update \
        --out benchmarks/results/mode_coverage_grid25.json
    python benchmarks/mode_coverage.py --datasets ring8 \
        --out benchmarks/results/mode_coverage_ring8.json

Targets: 8/8 and 25/25 modes, >= 97% high quality and reverse KL <= 0.02 in every seed, each run
trained in under 3 minutes on 2 CPU cores.
"""

import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import kgan  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")

# Published figures (modes captured, % high quality, reverse KL where reported) on the same
# mixtures: ring of 8 modes (std 0.01, radius 1) and grid of 25 (std 0.05, spacing 2).
PUBLISHED = {
    "ring8": [
        ("GAN (VEEGAN, Srivastava et al. 2017, Table 1)", 1.0, 99.3, None),
        ("Unrolled GAN (VEEGAN Table 1)", 7.6, 35.6, None),
        ("VEEGAN (VEEGAN Table 1)", 8.0, 52.9, None),
        ("WGAN-GP (GDPP, Elfeki et al. 2019)", 6.8, 59.6, None),
        ("GDPP-GAN (GDPP)", 8.0, 71.7, None),
        ("PacGAN4 (Lin et al. 2018, Table 1)", 7.8, 95.9, 0.07),
    ],
    "grid25": [
        ("GAN (VEEGAN Table 1)", 3.3, 0.5, None),
        ("Unrolled GAN (VEEGAN Table 1)", 23.6, 16.0, None),
        ("VEEGAN (VEEGAN Table 1)", 24.6, 40.0, None),
        ("WGAN-GP (GDPP)", 24.2, 28.7, None),
        ("GDPP-GAN (GDPP)", 24.8, 68.5, None),
        ("PacGAN4 (PacGAN Table 1)", 24.8, 93.6, 0.04),
    ],
}

# kgan's variants. `steps` are generator updates; the learning rate follows a cosine decay to
# 1% of its start unless `schedule` is "constant".
_ADAM_COSINE = {
    "trainer": "gan",
    "lr": 1e-3,
    "betas": (0.5, 0.999),
    "steps": 12_000,
    "batch_size": 512,
    "schedule": "cosine",
}
VARIANTS = {
    "gan": {
        **_ADAM_COSINE,
        "kwargs": {"loss": "non_saturating"},
        "about": "non-saturating GAN, Adam(1e-3, 0.5) with cosine decay to 1%",
    },
    "gan_r1": {
        **_ADAM_COSINE,
        "kwargs": {"loss": "non_saturating", "r1": 0.1},
        "about": "gan with an R1 penalty, gamma 0.1",
    },
    "gan_pack4": {
        **_ADAM_COSINE,
        "kwargs": {"loss": "non_saturating", "pack": 4},
        "about": "gan with PacGAN packing of 4 samples",
    },
    "hinge": {
        **_ADAM_COSINE,
        "kwargs": {"loss": "hinge"},
        "about": "hinge loss, otherwise as gan",
    },
    "wgan_gp": {
        "trainer": "wgan_gp",
        "kwargs": {},
        "lr": 1e-4,
        "betas": (0.0, 0.9),
        "steps": 1_500,
        "batch_size": 512,
        "schedule": "constant",
        "about": "WGANGP with the paper's defaults (5 critic steps, lambda 10, Adam(1e-4, 0, 0.9))",
    },
    "wgan_gp_toy": {
        "trainer": "wgan_gp",
        "kwargs": {"gradient_penalty": 0.1},
        "lr": 1e-3,
        "betas": (0.5, 0.9),
        "steps": 3_000,
        "batch_size": 512,
        "schedule": "cosine",
        "about": "WGANGP with the penalty weight 0.1 that the WGAN-GP authors' code uses for its "
        "toy 2-D tasks, Adam(1e-3, 0.5, 0.9) with cosine decay to 1%",
    },
}

# Discriminator rejection sampling (Azadi et al. 2019) of the trained models: the scores are of
# the accepted samples; the raw generator's are kept beside them.
VARIANTS["gan_r1_lazy_drs"] = {
    **_ADAM_COSINE,
    "kwargs": {"loss": "non_saturating", "r1": 0.1, "r1_interval": 4},
    "batch_size": 384,
    "rejection": {"percentile": 5.0},
    "about": "gan_r1 with the penalty every 4th step (weighted 4x, StyleGAN2's lazy "
    "regularization) on batches of 384, sampled with discriminator rejection sampling (gamma: "
    "5th percentile, the default)",
}

# Discriminator-driven latent refinement (Che et al. 2020's latent energy, descended without
# noise; see `kgan.models.discriminator_latent_refinement`) of the same trained models.
VARIANTS["gan_r1_lazy_refine"] = {
    **{k: v for k, v in VARIANTS["gan_r1_lazy_drs"].items() if k != "rejection"},
    "refinement": {"steps": 10, "step_size": 0.01},
    "about": "gan_r1_lazy_drs's training, sampled from latents refined by 10 gradient steps "
    "(step 0.01) on |z|^2 / 2 - D(G(z))",
}

TARGETS = {"high_quality": 0.97, "reverse_kl": 0.02, "seconds": 180.0}


def train_once(
    dataset_name, variant, seed, steps, batch_size, save_dir=None, name=None, steps_per_execution=1
):
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    points, _ = kgan.data.load_arrays(dataset_name, "train")
    dataset = (
        tf.data.Dataset.from_tensor_slices(points)
        .shuffle(len(points), seed=seed)
        .repeat()
        .batch(batch_size, drop_remainder=True)
        .prefetch(2)
    )
    # Without autotuning: when `fit` ends, destroying the iterator of an endless dataset waits for
    # tf.data's autotuning thread to wake (its sleeps double from 10 ms: 10.23 s, 20.47 s, ...),
    # which added up to 40 s to a 2-minute run.
    options = tf.data.Options()
    options.autotune.enabled = False
    dataset = dataset.with_options(options)
    model = kgan.models.build_trainer(variant["trainer"], (2,), seed=seed, **variant["kwargs"])
    # Several steps per traced call: Keras's per-step Python and dispatch work was 6-10% of the
    # run time of these 15 ms steps. `fit` runs whole calls, so the count must divide `steps`.
    steps_per_execution = math.gcd(steps, steps_per_execution)
    model.compile(
        d_optimizer=optimizer(variant, steps),
        g_optimizer=optimizer(variant, steps),
        steps_per_execution=steps_per_execution,
    )
    start = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - start
    spec = kgan.data.mixture_spec(dataset_name)
    samples = model.generate(2500, seed=1000 + seed)
    scores = {
        **kgan.metrics.mode_coverage(samples, spec.means, spec.std),
        "spread": within_mode_spread(samples, spec),
    }
    if "refinement" in variant:
        start = time.perf_counter()
        refined = kgan.models.discriminator_latent_refinement(
            model, 2500, seed=1000 + seed, **variant["refinement"]
        )
        raw = {f"raw_{k}": v for k, v in scores.items() if k != "num_modes"}
        scores = {
            **kgan.metrics.mode_coverage(refined, spec.means, spec.std),
            "spread": within_mode_spread(refined, spec),
            **raw,
            "sampling_seconds": time.perf_counter() - start,
        }
    if "rejection" in variant:
        start = time.perf_counter()
        kept, acceptance = kgan.models.discriminator_rejection_sample(
            model, 2500, seed=1000 + seed, return_acceptance=True, **variant["rejection"]
        )
        raw = {f"raw_{k}": v for k, v in scores.items() if k != "num_modes"}
        scores = {
            **kgan.metrics.mode_coverage(kept, spec.means, spec.std),
            "spread": within_mode_spread(kept, spec),
            **raw,
            "acceptance": acceptance,
            "sampling_seconds": time.perf_counter() - start,
        }
    if save_dir:
        os.makedirs(save_dir, exist_ok=True)
        model.save(os.path.join(save_dir, f"{dataset_name}_{name}_seed{seed}.keras"))
    return {**scores, "seconds": seconds, "seed": seed, "steps": steps, "batch_size": batch_size}


def within_mode_spread(samples, spec):
    """The standard deviation of the high-quality samples around their nearest mode (mean of
    the two axes) over the mixture's: 1 when the modes are as wide as the data's, below 1 when
    the model draws them too narrow (0.97 for 2,500 points of the mixture itself)."""
    offsets = samples[:, None, :] - spec.means[None]
    nearest = np.argmin(np.sum(offsets**2, axis=-1), axis=1)
    offsets = samples - spec.means[nearest]
    good = np.sqrt(np.sum(offsets**2, axis=-1)) <= 3.0 * spec.std
    return float(offsets[good].std(axis=0).mean() / spec.std) if good.any() else 0.0


def optimizer(variant, steps):
    lr = variant["lr"]
    if variant["schedule"] == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(lr, steps, alpha=0.01)
    return keras.optimizers.Adam(lr, beta_1=variant["betas"][0], beta_2=variant["betas"][1])


def meets_targets(run):
    return (
        run["modes_captured"] == run["num_modes"]
        and run["high_quality"] >= TARGETS["high_quality"]
        and run["reverse_kl"] <= TARGETS["reverse_kl"]
        and run["seconds"] < TARGETS["seconds"]
    )


def summarize(runs):
    def stat(key, scale=1.0):
        values = np.array([r[key] for r in runs], dtype="float64") * scale
        return float(values.mean()), float(values.std()), float(values.min()), float(values.max())

    return {
        "modes": stat("modes_captured"),
        "high_quality_pct": stat("high_quality", 100.0),
        "reverse_kl": stat("reverse_kl"),
        "seconds": stat("seconds"),
        "every_seed_meets_targets": all(meets_targets(r) for r in runs),
    }


def print_table(dataset_name, summaries, num_modes):
    print(f"\n{dataset_name}: {num_modes} modes, 2,500 samples; mean ± std over seeds [min, max]")
    print(f"{'method':52s} {'modes':>16s} {'% high quality':>22s} {'reverse KL':>24s} {'s':>6s}")
    for name, modes, hq, rkl in PUBLISHED[dataset_name]:
        rkl_text = "" if rkl is None else f"{rkl:.2f}"
        print(f"{name:52s} {modes:>16.1f} {hq:>22.1f} {rkl_text:>24s} {'':>6s}")
    for name, s in summaries.items():
        m, h, r, t = s["modes"], s["high_quality_pct"], s["reverse_kl"], s["seconds"]
        flag = " (targets met in every seed)" if s["every_seed_meets_targets"] else ""
        print(
            f"{'kgan ' + name:52s} {m[0]:>5.1f} ± {m[1]:.1f} [{m[2]:.0f}] "
            f"{h[0]:>6.1f} ± {h[1]:.1f} [{h[2]:.1f}] "
            f"{r[0]:>7.4f} ± {r[1]:.4f} [{r[3]:.4f}] {t[0]:>6.0f}{flag}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["ring8", "grid25"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--batch-size", type=int, help="batch size of every variant (default: each its own)"
    )
    parser.add_argument(
        "--steps-per-execution", type=int, default=25, help="training steps per traced call"
    )
    parser.add_argument("--quick", action="store_true", help="one seed, 1/20 of the steps")
    parser.add_argument("--steps", type=int, help="generator steps of every variant (its own)")
    parser.add_argument("--out", default=os.path.join(RESULTS, "mode_coverage.json"))
    parser.add_argument(
        "--save-models",
        metavar="DIR",
        help="save each trained model as DIR/<data>_<variant>_seed<N>.keras",
    )
    parser.add_argument(
        "--update", action="store_true", help="keep the other results already in --out"
    )
    args = parser.parse_args(argv)
    for option in ("batch_size", "steps_per_execution", "steps"):
        value = getattr(args, option)
        if value is not None and value < 1:
            parser.error(f"--{option.replace('_', '-')} must be a positive integer; got {value}")
    seeds = args.seeds[:1] if args.quick else args.seeds
    report = {
        "setup": {
            "batch_size": args.batch_size or "each variant's own",
            "steps_per_execution": args.steps_per_execution,
            "networks": "kgan.models.build_trainer(name, (2,)): G 3x128 from latent 2, D 3x256",
            "samples_scored": 2500,
            "cpu_threads": os.cpu_count(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "command": "python benchmarks/mode_coverage.py " + " ".join(sys.argv[1:]),
        },
        "targets": TARGETS,
        "published": PUBLISHED,
        "variants": {name: VARIANTS[name] for name in args.variants},
        "results": {},
    }
    if args.update and os.path.exists(args.out):
        with open(args.out) as f:
            earlier = json.load(f)
        report["variants"] = {**earlier.get("variants", {}), **report["variants"]}
        report["results"] = earlier.get("results", {})
    for dataset_name in args.datasets:
        summaries = {}
        report["results"].setdefault(dataset_name, {})
        for name in args.variants:
            variant = VARIANTS[name]
            steps = args.steps or variant["steps"]
            batch_size = args.batch_size or variant["batch_size"]
            steps = max(steps // 20, 50) if args.quick else steps
            runs = []
            for seed in seeds:
                run = train_once(
                    dataset_name,
                    variant,
                    seed,
                    steps,
                    batch_size,
                    args.save_models,
                    name,
                    args.steps_per_execution,
                )
                print(
                    f"{dataset_name} {name} seed {seed}: {run['modes_captured']}/"
                    f"{run['num_modes']} modes, {run['high_quality']:.1%} high quality, "
                    f"reverse KL {run['reverse_kl']:.4f}, {run['seconds']:.0f} s",
                    flush=True,
                )
                runs.append(run)
            summaries[name] = summarize(runs)
            report["results"][dataset_name][name] = {"runs": runs, "summary": summaries[name]}
            kgan.atomic.atomic_write_json(args.out, report)
        everything = {k: v["summary"] for k, v in report["results"][dataset_name].items()}
        print_table(dataset_name, everything, runs[0]["num_modes"])
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
