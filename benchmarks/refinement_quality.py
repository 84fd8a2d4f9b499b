"""Discriminator-driven sampling on MNIST images: domain FID, precision/recall (and class
consistency for a conditional preset) of a GAN preset's samples after 0, 3, 10 and 30 steps of
discriminator latent refinement, and with discriminator rejection sampling at a few
percentiles.

    python benchmarks/refinement_quality.py --preset cgan_mnist --seeds 0 1 \
        --out benchmarks/results/refinement_quality.json
    python benchmarks/refinement_quality.py --preset gan_mnist --seeds 0 1 \
        --drs-percentiles 5 50 80 --out benchmarks/results/refinement_quality_gan_mnist.json

1,000 samples per score (a conditional preset's labels cycling through the classes), against
`mnist_5k`'s train split with the domain extractor (the MNIST reference classifier), as
`kgan evaluate` scores them. Rejection sampling (`kgan.models.discriminator_rejection_sample`,
Azadi et al. 2019) keeps a candidate with a probability that grows with its discriminator
logit; a higher percentile filters more.
"""

import argparse
import os
import sys

import numpy as np

import kgan
import kgan.zoo
from kgan.atomic import atomic_write_json
from kgan.metrics.evaluate import real_images, score_features
from kgan.metrics.features import domain_extractor


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="cgan_mnist")
    parser.add_argument("--steps", nargs="+", type=int, default=[0, 3, 10, 30])
    parser.add_argument("--drs-percentiles", nargs="*", type=float, default=[])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--out", default="benchmarks/results/refinement_quality.json")
    args = parser.parse_args(argv)
    if args.num_samples < 2 or any(s < 0 for s in args.steps):
        parser.error("--num-samples must be >= 2 and --steps >= 0")
    if any(not 0 < p < 100 for p in args.drs_percentiles):
        parser.error("--drs-percentiles must lie between 0 and 100")
    model = kgan.zoo.load(args.preset)
    extractor = domain_extractor("mnist_5k")
    real = extractor(real_images("mnist_5k"))
    labels = None
    metrics = ["fid", "pr"]
    if model.conditional:
        labels = (np.arange(args.num_samples) % model.num_classes).astype("int32")
        metrics.append("consistency")
    samplers = [
        (
            {"sampling": "refinement", "steps": steps},
            lambda seed, steps=steps: kgan.models.discriminator_latent_refinement(
                model, args.num_samples, labels=labels, seed=seed, steps=steps
            ),
        )
        for steps in args.steps
    ] + [
        (
            {"sampling": "rejection", "percentile": percentile},
            lambda seed, percentile=percentile: kgan.models.discriminator_rejection_sample(
                model, args.num_samples, labels=labels, seed=seed, percentile=percentile
            ),
        )
        for percentile in args.drs_percentiles
    ]
    rows = []
    for setting, sample in samplers:
        for seed in args.seeds:
            features, logits = extractor.features_and_logits(sample(seed))
            scores = score_features(
                real, features, metrics, fake_logits=logits, labels=labels, seed=seed
            )
            row = {**setting, "seed": seed, **{k: float(v) for k, v in scores.items()}}
            rows.append(row)
            consistency = f", consistency {row['consistency']:.1%}" if "consistency" in row else ""
            print(
                f"{setting} seed {seed}: FID {row['fid']:.2f}, precision "
                f"{row['precision']:.3f}, recall {row['recall']:.3f}{consistency}",
                flush=True,
            )
    report = {
        "command": "python benchmarks/refinement_quality.py " + " ".join(sys.argv[1:]),
        "preset": args.preset,
        "step_size": 0.01,
        "num_samples": args.num_samples,
        "results": rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    atomic_write_json(args.out, report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
