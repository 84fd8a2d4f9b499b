"""The `kgan` command: train and sample generative models from the shell.

A thin layer over the library: every option maps to an argument of `kgan.data.load`,
`kgan.models.build_trainer`, `compile` or `fit`.
"""

import argparse
import os
import sys

import keras
import numpy as np

import kgan
from kgan.callbacks import RunCheckpoint, SampleGrid, load_run, tensorboard_available
from kgan.image_grid import save_image_grid

EPILOG_TRAIN = """\
examples:
  kgan train cgan --data mnist_5k --epochs 40 --out runs/cgan_mnist
  kgan train cgan --data mnist_5k --epochs 60 --out runs/cgan_mnist --resume
  kgan train gan --data ring8 --epochs 20 --out runs/ring8 --batch-size 256
  kgan train vae --data mnist_5k --epochs 30 --out runs/vae_mnist

A run folder holds model.keras (the compiled trainer, saved every epoch), state.json (epochs
done and the options), history.csv, grids/epoch_NNN.png (samples from fixed latents),
logs/ (TensorBoard, when the tensorboard package is installed) and samples.png (the
final grid).
"""

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

Samples (a conditional model's labels cycle through the classes) are compared with the train
split of --data in the feature space of its reference classifier (trained and cached on first
use): domain FID and KID (lower is better), improved precision/recall (pr) and density/coverage
(dc), the Inception Score of the classifier's logits (is) and, for conditional models only,
class consistency. Scores in this feature space are not comparable with published Inception
FIDs.
"""

EXPORT_FORMATS = ("saved_model", "tflite")
QUANTIZE_NAMES = ("none", "float16", "dynamic", "int8")
EVALUATE_METRICS = ("fid", "kid", "pr", "dc", "is", "consistency")

# The adversarial trainers of `build_trainer`, then the VAE family.
MODELS = (*sorted(kgan.models.TRAINERS), "vae", "vaegan")
LOSSES = tuple(kgan.losses.LOSSES)


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


def build_parser():
    """Returns the `argparse` parser of the `kgan` command."""
    parser = argparse.ArgumentParser(
        prog="kgan",
        description="Train, sample and inspect generative adversarial networks (Keras 3).",
    )
    parser.add_argument("--version", action="version", version=f"kgan {kgan.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = commands.add_parser(
        "train",
        help="train a model with model.fit, checkpointing every epoch",
        description="Train a model with model.fit, checkpointing every epoch.",
        epilog=EPILOG_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("model", choices=MODELS, help="which trainer to build")
    train.add_argument(
        "--data",
        default="mnist_5k",
        help="a built-in name (mnist_5k, digits, ring8, grid25), a TFDS name, an .npz file "
        "or an image folder (default: mnist_5k)",
    )
    train.add_argument("--epochs", type=_positive_int, default=40, help="total epochs (40)")
    train.add_argument("--out", required=True, help="the run folder to write")
    train.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its checkpoint"
    )
    train.add_argument("--batch-size", type=_positive_int, default=64, help="batch size (64)")
    train.add_argument("--latent-dim", type=_positive_int, help="latent size (64 for images)")
    train.add_argument("--width", type=_positive_int, help="network width (32 for images)")
    train.add_argument(
        "--d-width", type=_positive_int, help="discriminator width (--width; 2x for vectors)"
    )
    train.add_argument(
        "--loss", choices=LOSSES, help="adversarial loss (the model's: non_saturating, wasserstein)"
    )
    train.add_argument(
        "--d-steps", type=_positive_int, help="D updates per G update (the model's: 1, 5)"
    )
    train.add_argument("--gradient-penalty", type=float, help="WGAN-GP weight (the model's: 0, 10)")
    train.add_argument("--r1", type=float, help="R1 penalty weight gamma (0)")
    train.add_argument("--spectral-norm", action="store_true", help="spectral norm in D")
    train.add_argument(
        "--augment",
        help="DiffAugment policy for images, e.g. translation,cutout,color (none)",
    )
    train.add_argument(
        "--pack", type=_positive_int, help="PacGAN: D judges N samples at once (gan, wgan_gp)"
    )
    train.add_argument(
        "--ema-decay", type=float, help="keep an EMA of the generator, e.g. 0.999 (none)"
    )
    train.add_argument(
        "--lr",
        type=float,
        help="learning rate of every network (default: the model's optimizers, "
        "Adam 2e-4 beta_1 0.5; 1e-4, beta_1 0, beta_2 0.9 for wgan_gp; Adam 1e-3 for vae; "
        "RMSprop for vaegan)",
    )
    train.add_argument("--image-size", type=_positive_int, nargs=2, metavar=("H", "W"))
    train.add_argument("--data-dir", help="TFDS data folder")
    train.add_argument("--seed", type=int, default=0, help="seed of weights, data and latents")
    train.add_argument("--no-xla", action="store_true", help="do not compile steps with XLA")
    train.add_argument(
        "--grid-every", type=int, default=1, help="write a sample grid every N epochs (0: never)"
    )
    train.add_argument("--quiet", action="store_true", help="one line per epoch, no bar")

    sample = commands.add_parser(
        "sample",
        help="write a grid of samples from a run folder or .keras file",
        description="Write a grid of samples from a run folder or a .keras file.",
        epilog=EPILOG_SAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sample.add_argument("source", metavar="RUN_OR_FILE", help="run folder or .keras file")
    sample.add_argument("--num", type=_positive_int, default=100, help="number of samples")
    sample.add_argument(
        "--labels",
        type=_parse_labels,
        help="classes of a conditional model, e.g. 0-9 or 1,4,7; one row per class",
    )
    sample.add_argument("--seed", type=int, default=0, help="seed of the latents")
    sample.add_argument("--out", default="samples.png", help="PNG to write (samples.png)")
    sample.add_argument("--scale", type=_positive_int, default=2, help="pixel upscaling (2)")

    export = commands.add_parser(
        "export",
        help="write a SavedModel (TF Serving) and TFLite models of a trained model",
        description="Write a SavedModel in TF Serving's layout and LiteRT (TFLite) models of a "
        "run folder or .keras file, each checked against the model.",
        epilog=EPILOG_EXPORT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("source", metavar="RUN_OR_FILE", help="run folder or .keras file")
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

    evaluate = commands.add_parser(
        "evaluate",
        help="score a model's samples against real data (FID, KID, precision/recall, ...)",
        description="Score samples of a run folder or .keras file against a dataset's real images.",
        epilog=EPILOG_EVALUATE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("source", metavar="RUN_OR_FILE", help="run folder or .keras file")
    evaluate.add_argument(
        "--data", default="mnist_5k", help="the real images and their classifier (mnist_5k)"
    )
    evaluate.add_argument(
        "--metrics",
        type=_choices(EVALUATE_METRICS, "--metrics"),
        default=["fid", "kid", "pr", "consistency"],
        help="comma-separated: fid, kid, pr, dc, is, consistency (fid,kid,pr,consistency)",
    )
    evaluate.add_argument(
        "--num-samples", type=_positive_int, default=1000, help="samples scored (1000)"
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the samples (0)")
    evaluate.add_argument("--out", help="JSON file to write the scores to")
    return parser


def _fail(message):
    print(f"kgan: error: {message}", file=sys.stderr)
    return 2


def _train(args):
    checkpoint = os.path.join(args.out, RunCheckpoint.MODEL_FILE)
    options = {
        k: v for k, v in vars(args).items() if k not in ("command", "resume", "quiet", "epochs")
    }
    if args.resume:
        if not os.path.exists(checkpoint):
            return _fail(f"--resume: {args.out!r} has no checkpoint; drop --resume to start")
        model, state = load_run(args.out)
        initial_epoch = state["epoch"]
        options = state.get("options", options)
        print(f"resuming {args.out} at epoch {initial_epoch}", flush=True)
    else:
        if os.path.exists(checkpoint):
            return _fail(
                f"{args.out!r} already holds a run; pass --resume to continue it or choose "
                "another --out"
            )
        initial_epoch = 0
    if initial_epoch >= args.epochs:
        return _fail(f"the run has done {initial_epoch} epochs already; raise --epochs")
    keras.utils.set_random_seed(options["seed"])
    info = kgan.data.info(options["data"], data_dir=options["data_dir"])
    image_size = tuple(options["image_size"]) if options["image_size"] else None
    dataset = kgan.data.load(
        options["data"],
        batch_size=options["batch_size"],
        seed=options["seed"] + initial_epoch,
        drop_remainder=True,
        image_size=image_size,
        data_dir=options["data_dir"],
    )
    if not args.resume and options["model"] in ("vae", "vaegan"):
        shape = info.shape if image_size is None else (*image_size, info.shape[-1])
        model = _build_vae_family(options, shape)
    elif not args.resume:
        shape = info.shape if image_size is None else (*image_size, info.shape[-1])
        model = kgan.models.build_trainer(
            options["model"],
            shape,
            num_classes=info.num_classes,
            latent_dim=options["latent_dim"],
            width=options["width"],
            d_width=options["d_width"],
            spectral_norm=options["spectral_norm"],
            seed=options["seed"],
            **{
                k: options[k]
                for k in (
                    *("loss", "d_steps", "gradient_penalty", "r1"),
                    *("augment", "ema_decay", "pack"),
                )
                if options[k] is not None
            },
        )
        optimizers = {"d_optimizer": "auto", "g_optimizer": "auto"}
        if options["lr"] is not None:
            wasserstein = model.loss_name == "wasserstein"
            betas = {"beta_1": 0.0, "beta_2": 0.9} if wasserstein else {"beta_1": 0.5}
            optimizers = {key: keras.optimizers.Adam(options["lr"], **betas) for key in optimizers}
        model.compile(**optimizers, jit_compile=not options["no_xla"])
    os.makedirs(args.out, exist_ok=True)
    images = len(model.sample_shape) == 3
    log_dir = os.path.join(args.out, "logs") if tensorboard_available() else None
    callbacks = [
        RunCheckpoint(args.out, extra_state={"options": options}),
        keras.callbacks.CSVLogger(os.path.join(args.out, "history.csv"), append=args.resume),
    ]
    if log_dir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir))
    if images and options["grid_every"] > 0:
        callbacks.append(
            SampleGrid(
                os.path.join(args.out, "grids"),
                every=options["grid_every"],
                log_dir=log_dir,
                seed=options["seed"],
            )
        )
    model.fit(
        dataset,
        epochs=args.epochs,
        initial_epoch=initial_epoch,
        callbacks=callbacks,
        shuffle=False,  # the dataset reshuffles itself every epoch
        verbose=2 if args.quiet else 1,
    )
    if images:
        path = _write_grid(model, os.path.join(args.out, "samples.png"), 100, None, 0, 2)
        print(f"wrote {checkpoint} and {path}")
    else:
        print(f"wrote {checkpoint}")
    return 0


def _build_vae_family(options, shape):
    """Builds and compiles a VAE or VAEGAN; the adversarial options do not apply to them."""
    adversarial = ("loss", "d_steps", "gradient_penalty", "r1", "augment", "ema_decay", "pack")
    given = [f"--{k.replace('_', '-')}" for k in adversarial if options[k] is not None]
    if options["spectral_norm"]:
        given.append("--spectral-norm")
    if options["model"] == "vae" and options["d_width"] is not None:
        given.append("--d-width")
    if given:
        raise ValueError(f"{', '.join(given)}: not options of {options['model']}; drop them")
    common = {
        "latent_dim": options["latent_dim"],
        "width": options["width"],
        "seed": options["seed"],
    }
    if options["model"] == "vae":
        model = kgan.models.build_vae(shape, **common)
        optimizer = "auto" if options["lr"] is None else keras.optimizers.Adam(options["lr"])
        model.compile(optimizer=optimizer, jit_compile=not options["no_xla"])
        return model
    model = kgan.models.build_vaegan(shape, d_width=options["d_width"], **common)
    optimizers = {"e_optimizer": "auto", "g_optimizer": "auto", "d_optimizer": "auto"}
    if options["lr"] is not None:
        optimizers = {key: keras.optimizers.RMSprop(options["lr"]) for key in optimizers}
    model.compile(**optimizers, jit_compile=not options["no_xla"])
    return model


def _write_grid(model, path, num, labels, seed, scale):
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
    images = model.generate(num_samples=num, seed=seed, **labels)
    return save_image_grid(images, path, columns=columns, scale=scale)


def _sample(args):
    path = args.source
    if os.path.isdir(path):
        path = os.path.join(path, RunCheckpoint.MODEL_FILE)
    if not os.path.isfile(path) or not path.endswith(".keras"):
        return _fail(f"{args.source!r} is neither a run folder with model.keras nor a .keras file")
    model = keras.saving.load_model(path)
    if not hasattr(model, "generate") or len(model.sample_shape) != 3:
        return _fail(f"{path} holds no image generator")
    try:
        written = _write_grid(model, args.out, args.num, args.labels, args.seed, args.scale)
    except ValueError as error:
        return _fail(str(error))
    print(f"wrote {written}")
    return 0


def _export(args):
    import kgan.export

    model = kgan.export.load_model(args.source)
    signatures = args.signatures.split(",") if args.signatures else None
    check = not args.no_check
    written = []
    if "saved_model" in args.format:
        path = kgan.export.saved_model(
            model,
            os.path.join(args.out, "saved_model"),
            version=args.version,
            overwrite=args.overwrite,
            signatures=signatures,
            check=check,
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
                    model, path, quantization=quantization, signatures=signatures, check=check
                )
            )
    for path in written:
        print(f"wrote {path}")
    return 0


def _load_generator(source):
    path = source
    if os.path.isdir(path):
        path = os.path.join(path, RunCheckpoint.MODEL_FILE)
    if not os.path.isfile(path) or not path.endswith(".keras"):
        raise ValueError(f"{source!r} is neither a run folder with model.keras nor a .keras file")
    return keras.saving.load_model(path)


def _evaluate(args):
    from kgan.atomic import atomic_write_json

    model = _load_generator(args.source)
    scores = kgan.metrics.evaluate_model(
        model, args.data, args.metrics, num_samples=args.num_samples, seed=args.seed
    )
    print(
        f"{args.source}: {scores['num_samples']} samples vs {scores['num_real']} real images "
        f"of {args.data}, features {scores['extractor']}"
    )
    for key, value in scores.items():
        if isinstance(value, float):
            print(f"  {key:22s}{value:12.4f}")
    for name in scores["skipped"]:
        print(f"  {name:22s}{'n/a':>12s}  (unconditional model)")
    if args.out:
        record = {"source": args.source, "data": args.data, "seed": args.seed, **scores}
        atomic_write_json(args.out, record)
        print(f"wrote {args.out}")
    return 0


def main(argv=None):
    """Runs the `kgan` command; returns its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"train": _train, "sample": _sample, "export": _export, "evaluate": _evaluate}
    try:
        return handlers[args.command](args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        return _fail(str(error))


if __name__ == "__main__":
    sys.exit(main())
