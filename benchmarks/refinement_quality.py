"""Discriminator latent refinement on MNIST images: domain FID, precision/recall and class
consistency of a conditional GAN preset's samples after 0, 3, 10 and 30 refinement steps.

    python benchmarks/refinement_quality.py --preset cgan_mnist --seeds 0 1 \
        --out benchmarks/results/refinement_quality.json

1,000 samples per score (labels cycling through the classes), against `mnist_5k`'s train split
with the domain extractor (the MNIST reference classifier), as `kgan evaluate` scores them.
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
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--out", default="benchmarks/results/refinement_quality.json")
    args = parser.parse_args(argv)
    if args.num_samples < 2 or any(s < 0 for s in args.steps):
        parser.error("--num-samples must be >= 2 and --steps >= 0")
    model = kgan.zoo.load(args.preset)
    extractor = domain_extractor("mnist_5k")
    real = extractor(real_images("mnist_5k"))
    labels = (np.arange(args.num_samples) % model.num_classes).astype("int32")
    rows = []
    for steps in args.steps:
        for seed in args.seeds:
            images = kgan.models.discriminator_latent_refinement(
                model, labels=labels, seed=seed, steps=steps
            )
            features, logits = extractor.features_and_logits(images)
            scores = score_features(
                real,
                features,
                ["fid", "pr", "consistency"],
                fake_logits=logits,
                labels=labels,
                seed=seed,
            )
            row = {"steps": steps, "seed": seed, **{k: float(v) for k, v in scores.items()}}
            rows.append(row)
            print(
                f"steps {steps:3d} seed {seed}: FID {row['fid']:.2f}, precision "
                f"{row['precision']:.3f}, recall {row['recall']:.3f}, consistency "
                f"{row['consistency']:.1%}",
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
