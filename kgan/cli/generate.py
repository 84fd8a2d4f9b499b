"""`kgan sample`, `kgan export` and `kgan evaluate`: use a trained model."""

import argparse
import json
import os

import numpy as np

import kgan.export
import kgan.metrics
import kgan.zoo
from kgan.callbacks import RunCheckpoint
from kgan.cli.common import _choices, _fail, _parse_labels, _positive_int
from kgan.image_grid import save_image_grid
from kgan.models import discriminator_latent_refinement
from kgan.zoo.format import METADATA_FILE

EPILOG_SAMPLE = """\
examples:
  kgan sample runs/cgan_mnist --num 100 --labels 0-9 --out grid.png
  kgan sample runs/cgan_mnist/model.keras --num 16 --labels 7 --seed 3 --out sevens.png
"""

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
class consistency. Scores in this feature space are not comparable with published Inception
FIDs. For a 2-D generator, --metrics modes --data ring8|grid25 --num-samples 2500 scores mode
coverage (modes captured, share of high-quality samples, reverse KL).
"""

EXPORT_FORMATS = ("saved_model", "tflite")
QUANTIZE_NAMES = ("none", "float16", "dynamic", "int8")
EVALUATE_METRICS = ("fid", "kid", "pr", "dc", "is", "consistency", "modes")


SOURCE_HELP = (
    "a run folder, a .keras file, a preset name (kgan zoo list), a preset folder or an "
    "http(s)://, file://, hf:// or kaggle:// preset"
)


def load_source(source):
    """The model a command works on: a run folder or saved file, else a preset.

    Args:
        source: a run folder written by `kgan train`, a `.keras` file, a `GaussianMixture`
            `.npz`, a preset folder, or a preset name or URL for `kgan.zoo.load`.

    Returns:
        The model.
    """
    path = os.fspath(source)
    preset_folder = os.path.isdir(path) and os.path.isfile(os.path.join(path, METADATA_FILE))
    run_folder = os.path.isfile(os.path.join(path, RunCheckpoint.MODEL_FILE))
    if os.path.isdir(path) and not (preset_folder or run_folder):
        raise FileNotFoundError(
            f"{path!r} is neither a run folder (no {RunCheckpoint.MODEL_FILE}) nor a preset "
            "folder (no metadata.json); pass a run folder written by `kgan train`, a .keras "
            "file or a preset"
        )
    if os.path.exists(path) and not (preset_folder and not run_folder):
        return kgan.export.load_model(path)
    return kgan.zoo.load(path)


def add_parsers(commands):
    """Adds `sample`, `export` and `evaluate` to the subcommands."""
    sample = commands.add_parser(
        "sample",
        help="write a grid of samples from a run folder, .keras file or preset",
        description="Write a grid of samples from a run folder or a .keras file.",
        epilog=EPILOG_SAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sample.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    sample.add_argument("--num", type=_positive_int, default=100, help="number of samples")
    sample.add_argument(
        "--labels",
        type=_parse_labels,
        help="classes of a conditional model, e.g. 0-9 or 1,4,7; one row per class",
    )
    sample.add_argument("--seed", type=int, default=0, help="seed of the latents")
    sample.add_argument("--out", default="samples.png", help="PNG to write (samples.png)")
    sample.add_argument("--scale", type=_positive_int, default=2, help="pixel upscaling (2)")
    sample.add_argument(
        "--refine",
        type=_positive_int,
        metavar="STEPS",
        help="GANs with a logistic loss: move each latent this many gradient steps towards "
        "higher discriminator scores first (kgan.models.discriminator_latent_refinement)",
    )

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
        type=_choices(EXPORT_FORMATS, "--format"),
        default=list(EXPORT_FORMATS),
        help="saved_model, tflite or both, comma-separated (both)",
    )
    export.add_argument(
        "--quantize",
        type=_choices(QUANTIZE_NAMES, "--quantize"),
        default=["none"],
        help="TFLite variants: none (float32), float16, dynamic, int8, comma-separated (none)",
    )
    export.add_argument("--out", required=True, help="the folder to write")
    export.add_argument(
        "--version", type=_positive_int, default=1, help="SavedModel version folder (1)"
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
        type=_choices(EVALUATE_METRICS, "--metrics"),
        default=["fid", "kid", "pr", "consistency"],
        help="comma-separated: fid, kid, pr, dc, is, consistency, or modes alone "
        "(fid,kid,pr,consistency)",
    )
    evaluate.add_argument(
        "--num-samples", type=_positive_int, default=1000, help="samples scored (1000)"
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the samples (0)")
    evaluate.add_argument("--out", help="JSON file to write the scores to")


def _write_grid(model, path, num, labels, seed, scale, refine=None):
    columns = None
    if model.conditional:
        labels = labels if labels is not None else list(range(model.num_classes))
        bad = [label for label in labels if not 0 <= label < model.num_classes]
        if bad:
            raise ValueError(
                f"--labels {bad} are outside the model's classes 0-{model.num_classes - 1}"
            )
        columns = -(-num // len(labels))
        labels = np.repeat(np.asarray(labels, "int32"), columns)[:num]
    elif labels is not None:
        raise ValueError("this model is unconditional: drop --labels")
    labels = {"labels": labels} if model.conditional else {}
    if refine:
        images = discriminator_latent_refinement(
            model, num_samples=num, seed=seed, steps=refine, **labels
        )
    else:
        images = model.generate(num_samples=num, seed=seed, **labels)
    return save_image_grid(images, path, columns=columns, scale=scale)


def _sample(args):
    model = load_source(args.source)
    path = args.source
    if not hasattr(model, "generate") or len(model.sample_shape) != 3:
        return _fail(f"{path} holds no image generator")
    try:
        written = _write_grid(
            model, args.out, args.num, args.labels, args.seed, args.scale, args.refine
        )
    except ValueError as error:
        return _fail(str(error))
    print(f"wrote {written}")
    return 0


def _export(args):
    import kgan.export

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
            return _fail(f"{', '.join(existing)} already exist; pass --overwrite to replace them")
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
    if not getattr(model, "conditional", False) or len(getattr(model, "sample_shape", ())) != 3:
        return None
    if args.classifier_data:
        return kgan.metrics.reference_classifier(args.classifier_data)[0]
    state = os.path.join(os.fspath(args.source), RunCheckpoint.STATE_FILE)
    if not os.path.isfile(state):
        return None
    with open(state) as f:
        data = json.load(f).get("options", {}).get("data")
    cached = kgan.metrics.cached_reference_classifier(data) if data else None
    return None if cached is None else cached[0]


def _evaluate(args):
    from kgan.atomic import atomic_write_json

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
