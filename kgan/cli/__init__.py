"""The `kgan` command: train, sample, evaluate and export generative models from the shell.

A thin layer over the library: every option maps to an argument of `kgan.data.load`,
`kgan.models.build_trainer`, `compile`, `fit`, `kgan.metrics`, `kgan.export` or `kgan.zoo`.
It starts without TensorFlow (see `kgan.cli.common`).
"""

import argparse
import sys

from kgan.cli import cluster, data, evaluate, export, sample, train, zoo
from kgan.cli.common import fail, parse_labels
from kgan.version import __version__

__all__ = ["COMMANDS", "build_parser", "main", "parse_labels"]

# Each command is one module with `add_parser(commands)` and `run(args)`.
COMMANDS = {
    "train": train,
    "sample": sample,
    "export": export,
    "evaluate": evaluate,
    "cluster": cluster,
    "data": data,
    "zoo": zoo,
}


def build_parser():
    """Returns the `argparse` parser of the `kgan` command."""
    parser = argparse.ArgumentParser(
        prog="kgan",
        description="Train, sample and inspect generative adversarial networks (Keras 3).",
    )
    parser.add_argument("--version", action="version", version=f"kgan {__version__}")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's native log lines (hidden by default; give it before COMMAND)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    for command in COMMANDS.values():
        command.add_parser(commands)
    return parser


def main(argv=None):
    """Runs the `kgan` command; returns its exit status.

    Parsing (and `--help`, and argument errors) needs no TensorFlow; the library is loaded
    once the arguments are good, before the command runs.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    import kgan

    kgan._import_all()
    try:
        return COMMANDS[args.command].run(args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        return fail(str(error))


if __name__ == "__main__":
    sys.exit(main())
