"""Argument parsers and error reporting shared by the `kgan` subcommands."""

import argparse
import sys


def _parse_labels(text):
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


def _choices(allowed, option):
    def parse(text):
        names = [name.strip() for name in text.split(",") if name.strip()]
        bad = [name for name in names if name not in allowed]
        if not names or bad:
            raise argparse.ArgumentTypeError(
                f"{option} takes a comma-separated list of {', '.join(allowed)}; got {text!r}"
            )
        return list(dict.fromkeys(names))

    return parse


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def _fail(message):
    print(f"kgan: error: {message}", file=sys.stderr)
    return 2
