"""`kgan evaluate`: score a trained model's samples against real data."""

import argparse

import kgan
from kgan.atomic import atomic_write_json
from kgan.cli.common import SOURCE_HELP, choices, load_source, positive_int

EPILOG_EVALUATE = """\
examples:
  kgan evaluate runs/cgan_mnist --data mnist_5k --metrics fid,kid,pr,consistency \\
      --num-samples 1000 --out metrics.json
  kgan evaluate runs/vae_mnist/model.keras --metrics fid,kid,pr,dc
  kgan evaluate cgan_mnist --metrics fid,consistency
  kgan evaluate gan_grid25 --data grid25 --metrics modes --num-samples 2500 --seed 1000

Samples (a conditional model's labels cycle through the classes) are compared with the train
split of --data in the feature space of its reference classifier (trained and cached on first
use): domain FID and KID (lower is better), improved precision/recall (pr) and density/coverage
(dc), the Inception Score of the classifier's logits (is) and, for conditional models only,
class consistency; balance is the class histogram of the samples against the uniform one
(class_kl, smallest_class). Scores in this feature space are not comparable with published Inception
FIDs. For a 2-D generator, --metrics modes --data ring8|grid25 --num-samples 2500 scores mode
coverage (modes captured, share of high-quality samples, reverse KL).
"""

# The names of kgan.metrics.evaluate.METRICS (not imported: the parser stays light).
EVALUATE_METRICS = ("fid", "kid", "pr", "dc", "is", "consistency", "balance", "modes")


def add_parser(commands):
    """Adds `evaluate` to the subcommands."""
    evaluate = commands.add_parser(
        "evaluate",
        help="score a model's samples against real data (FID, KID, precision/recall, ...)",
        description="Score samples of a run folder, .keras file or preset against a dataset's "
        "real images.",
        epilog=EPILOG_EVALUATE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    evaluate.add_argument(
        "--data", default="mnist_5k", help="the real images and their classifier (mnist_5k)"
    )
    evaluate.add_argument(
        "--metrics",
        type=choices(EVALUATE_METRICS, "--metrics"),
        default=["fid", "kid", "pr", "consistency"],
        help="comma-separated: fid, kid, pr, dc, is, consistency, balance, or modes alone "
        "(fid,kid,pr,consistency)",
    )
    evaluate.add_argument(
        "--num-samples", type=positive_int, default=1000, help="samples scored (1000)"
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the samples (0)")
    evaluate.add_argument("--out", help="JSON file to write the scores to")


def run(args):
    """Runs `kgan evaluate`; returns the exit status."""
    model = load_source(args.source)
    scores = kgan.metrics.evaluate_model(
        model, args.data, args.metrics, num_samples=args.num_samples, seed=args.seed
    )
    if scores["extractor"] is None:
        print(f"{args.source}: {scores['num_samples']} samples vs the modes of {args.data}")
    else:
        print(
            f"{args.source}: {scores['num_samples']} samples vs {scores['num_real']} real "
            f"images of {args.data}, features {scores['extractor']}"
        )
    for key, value in scores.items():
        if isinstance(value, float) or key in ("modes_captured", "num_modes"):
            print(f"  {key:22s}{value:12.4f}")
    for name in scores["skipped"]:
        print(f"  {name:22s}{'n/a':>12s}  (unconditional model)")
    if args.out:
        record = {"source": args.source, "data": args.data, "seed": args.seed, **scores}
        atomic_write_json(args.out, record)
        print(f"wrote {args.out}")
    return 0
