"""What the `kgan` subcommands share: argument parsers, error reporting, the model a SOURCE
argument names, and the sample grid.

The command line starts without TensorFlow: this module and every command's parser import only
the standard library; a command imports the rest of kgan when it runs.
"""

import argparse
import os
import sys

import kgan

SOURCE_HELP = (
    "a run folder, a .keras file, a preset name (kgan zoo list), a preset folder or an "
    "http(s)://, file://, hf:// or kaggle:// preset"
)


def parse_labels(text):
    """Parses `0-9`, `3`, or `1,4,7` (ranges allowed inside lists) into a list of ints."""
    labels = []
    try:
        for part in text.split(","):
            if "-" in part.strip()[1:]:
                low, high = part.split("-", 1)
                low, high = int(low), int(high)
                if high < low:
                    raise ValueError
                labels.extend(range(low, high + 1))
            else:
                labels.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--labels takes ints, ranges and lists such as 3, 0-9 or 1,4,7; got {text!r}"
        ) from None
    return labels


def choices(allowed, option):
    def parse(text):
        names = [name.strip() for name in text.split(",") if name.strip()]
        bad = [name for name in names if name not in allowed]
        if not names or bad:
            raise argparse.ArgumentTypeError(
                f"{option} takes a comma-separated list of {', '.join(allowed)}; got {text!r}"
            )
        return list(dict.fromkeys(names))

    return parse


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def fail(message):
    print(f"kgan: error: {message}", file=sys.stderr)
    return 2


def load_source(source):
    """The model a command works on: a run folder or saved file, else a preset.

    Args:
        source: a run folder written by `kgan train`, a `.keras` file, a `GaussianMixture`
            `.npz`, a preset folder, or a preset name or URL for `kgan.zoo.load`.

    Returns:
        The model.
    """
    from kgan.callbacks import runs
    from kgan.zoo.format import METADATA_FILE

    path = os.fspath(source)
    preset_folder = os.path.isdir(path) and os.path.isfile(os.path.join(path, METADATA_FILE))
    run_folder = runs.is_run_folder(path)
    if os.path.isdir(path) and not (preset_folder or run_folder):
        raise FileNotFoundError(
            f"{path!r} is neither a run folder (no {runs.MODEL_FILE}) nor a preset "
            "folder (no metadata.json); pass a run folder written by `kgan train`, a .keras "
            "file or a preset"
        )
    if os.path.exists(path) and not (preset_folder and not run_folder):
        return runs.load_model(path)
    return kgan.zoo.load(path)
