"""`kgan sample`: a grid of samples from a trained model."""

import argparse

from kgan.cli.common import (
    SOURCE_HELP,
    fail,
    load_source,
    parse_labels,
    positive_int,
)

EPILOG_SAMPLE = """\
examples:
  kgan sample runs/cgan_mnist --num 100 --labels 0-9 --out grid.png
  kgan sample runs/cgan_mnist/model.keras --num 16 --labels 7 --seed 3 --out sevens.png
"""


def add_parser(commands):
    """Adds `sample` to the subcommands."""
    sample = commands.add_parser(
        "sample",
        help="write a grid of samples from a run folder, .keras file or preset",
        description="Write a grid of samples from a run folder or a .keras file.",
        epilog=EPILOG_SAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sample.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    sample.add_argument("--num", type=positive_int, default=100, help="number of samples")
    sample.add_argument(
        "--labels",
        type=parse_labels,
        help="classes of a conditional model, e.g. 0-9 or 1,4,7; one row per class",
    )
    sample.add_argument("--seed", type=int, default=0, help="seed of the latents")
    sample.add_argument("--out", default="samples.png", help="PNG to write (samples.png)")
    sample.add_argument("--scale", type=positive_int, default=2, help="pixel upscaling (2)")
    sample.add_argument(
        "--refine",
        type=positive_int,
        metavar="STEPS",
        help="GANs with a logistic loss: move each latent this many gradient steps towards "
        "higher discriminator scores first (kgan.models.discriminator_latent_refinement)",
    )


def run(args):
    """Runs `kgan sample`; returns the exit status."""
    from kgan.image_grid import makes_images, save_sample_grid

    model = load_source(args.source)
    path = args.source
    if not makes_images(model):
        return fail(f"{path} holds no image generator")
    try:
        written = save_sample_grid(
            model, args.out, args.num, args.labels, args.seed, args.scale, args.refine
        )
    except ValueError as error:
        return fail(f"--labels: {error}" if args.labels is not None else str(error))
    print(f"wrote {written}")
    return 0
