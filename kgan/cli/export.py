"""`kgan export`: SavedModel and TFLite files of a trained model, checked against it."""

import argparse
import os

import kgan
from kgan.cli.common import SOURCE_HELP, choices, fail, load_source, positive_int

EPILOG_EXPORT = """\
examples:
  kgan export runs/cgan_mnist --out exports/cgan_mnist
  kgan export runs/cgan_mnist --format tflite --quantize none,float16,dynamic,int8 \\
      --out exports/cgan_mnist
  kgan export runs/cgan_mnist --format saved_model --version 2 --out exports/cgan_mnist

The folder --out gets saved_model/<version>/ (TF Serving's layout: point a server's base_path
at saved_model/) and tflite/model.tflite (float32), tflite/model_<quantization>.tflite for the
others. Each export is checked against the model and the parity report printed.
"""

EXPORT_FORMATS = ("saved_model", "tflite")
QUANTIZE_NAMES = ("none", "float16", "dynamic", "int8")


def add_parser(commands):
    """Adds `export` to the subcommands."""
    export = commands.add_parser(
        "export",
        help="write a SavedModel (TF Serving) and TFLite models of a trained model",
        description="Write a SavedModel in TF Serving's layout and LiteRT (TFLite) models of a "
        "run folder, .keras file or preset, each checked against the model.",
        epilog=EPILOG_EXPORT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    export.add_argument(
        "--format",
        type=choices(EXPORT_FORMATS, "--format"),
        default=list(EXPORT_FORMATS),
        help="saved_model, tflite or both, comma-separated (both)",
    )
    export.add_argument(
        "--quantize",
        type=choices(QUANTIZE_NAMES, "--quantize"),
        default=["none"],
        help="TFLite variants: none (float32), float16, dynamic, int8, comma-separated (none)",
    )
    export.add_argument("--out", required=True, help="the folder to write")
    export.add_argument(
        "--version", type=positive_int, default=1, help="SavedModel version folder (1)"
    )
    export.add_argument(
        "--overwrite", action="store_true", help="replace an existing version or .tflite file"
    )
    export.add_argument(
        "--signatures", help="comma-separated signatures to export (all the model has)"
    )
    export.add_argument("--no-check", action="store_true", help="skip the parity checks")
    export.add_argument(
        "--classifier-data",
        metavar="DATA",
        help="score a conditional image generator's class consistency in the parity check with "
        "the reference classifier of DATA (e.g. mnist_5k; trained and cached on first use). "
        "By default a run folder's own --data, when its classifier is cached",
    )


def run(args):
    """Runs `kgan export`; returns the exit status."""
    model = load_source(args.source)
    signatures = args.signatures.split(",") if args.signatures else None
    check = not args.no_check
    classifier = _parity_classifier(args, model) if check else None
    written = []
    if "saved_model" in args.format:
        path = kgan.export.saved_model(
            model,
            os.path.join(args.out, "saved_model"),
            version=args.version,
            overwrite=args.overwrite,
            signatures=signatures,
            check=check,
            classifier=classifier,
        )
        written.append(path)
    if "tflite" in args.format:
        paths = {
            name: os.path.join(
                args.out, "tflite", "model.tflite" if name == "none" else f"model_{name}.tflite"
            )
            for name in args.quantize
        }
        existing = [p for p in paths.values() if os.path.exists(p)]
        if existing and not args.overwrite:
            return fail(f"{', '.join(existing)} already exist; pass --overwrite to replace them")
        for name, path in paths.items():
            quantization = None if name == "none" else name
            written.append(
                kgan.export.tflite(
                    model,
                    path,
                    quantization=quantization,
                    signatures=signatures,
                    check=check,
                    classifier=classifier,
                )
            )
    for path in written:
        print(f"wrote {path}")
    return 0


def _parity_classifier(args, model):
    """The classifier that scores class consistency in the parity checks, or None."""
    from kgan.callbacks import runs

    if not getattr(model, "conditional", False) or len(getattr(model, "sample_shape", ())) != 3:
        return None
    if args.classifier_data:
        return kgan.metrics.reference_classifier(args.classifier_data)[0]
    if not runs.is_run_folder(os.fspath(args.source)):
        return None
    data = runs.read_state(args.source).get("options", {}).get("data")
    cached = kgan.metrics.cached_reference_classifier(data) if data else None
    return None if cached is None else cached[0]
