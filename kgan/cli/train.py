"""`kgan train`: build, compile and fit a trainer, checkpointing every epoch."""

import argparse
import ast
import csv
import os
import tempfile
import warnings

import kgan
from kgan.atomic import atomic_write
from kgan.cli import names
from kgan.cli.common import fail, positive_int

# The exit status of a run stopped by DivergenceGuard (2 is a usage error).
EXIT_DIVERGED = 3

EPILOG_TRAIN = """\
examples:
  kgan train cgan --data mnist_5k --epochs 40 --out runs/cgan_mnist
  kgan train cgan --data mnist_5k --epochs 60 --out runs/cgan_mnist --resume
  kgan train gan --data ring8 --epochs 20 --out runs/ring8 --batch-size 256
  kgan train vae --data mnist_5k --epochs 30 --out runs/vae_mnist

model is any registered trainer (kgan.models.list_trainers()); options a trainer does not take
are refused, and --option NAME=VALUE passes any other build option of its from_shape.

A run folder holds model.keras (the compiled trainer, saved every epoch), state.json (epochs
done and the options), history.csv, grids/epoch_NNN.png (samples from fixed latents),
logs/ (TensorBoard, when the tensorboard package is installed) and samples.png (the
final grid).

--resume continues from the last finished epoch: an epoch cut short is run again from its
start. model.keras holds the optimizers' and the latent RNG's state, and the data order of
epoch e depends on (seed, e) alone, so a resumed run ends with the weights of an
uninterrupted one; history.csv, the grids and TensorBoard continue their series.

A loss that turns NaN or infinite stops the run with a message naming the network that
diverged and exit status 3; model.keras keeps the last epoch with finite weights. A warning
(and the history column "diversity") flags samples that lose the data's diversity.
"""


LOSSES = names.loss_names()
# Command-line options that are build options of a trainer (`Trainer.build_options`); each is
# passed to `from_shape` when given, and refused for a trainer that does not declare it.
BUILD_FLAGS = (
    "latent_dim",
    "width",
    "d_width",
    "spectral_norm",
    "synchronized_batch_norm",
    "loss",
    "d_steps",
    "gradient_penalty",
    "r1",
    "augment",
    "pack",
    "ema_decay",
)


def _option(text):
    """`NAME=VALUE` -> `(name, value)`; the value is a Python literal, else a string."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise argparse.ArgumentTypeError(f"--option takes NAME=VALUE, e.g. beta=4.0; got {text!r}")
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass
    return name.strip(), value


def add_parser(commands):
    """Adds `train` to the subcommands."""
    train = commands.add_parser(
        "train",
        help="train a model with model.fit, checkpointing every epoch",
        description="Train a model with model.fit, checkpointing every epoch.",
        epilog=EPILOG_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument(
        "model", choices=names.trainer_names(), help="which trainer to build (registered)"
    )
    train.add_argument(
        "--data",
        default="mnist_5k",
        help="a built-in name (mnist_5k, digits, ring8, grid25), a TFDS name, an .npz file "
        "or an image folder (default: mnist_5k)",
    )
    train.add_argument("--epochs", type=positive_int, default=40, help="total epochs (40)")
    train.add_argument("--out", required=True, help="the run folder to write")
    train.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its checkpoint"
    )
    train.add_argument("--batch-size", type=positive_int, default=64, help="batch size (64)")
    train.add_argument("--latent-dim", type=positive_int, help="latent size (64 for images)")
    train.add_argument("--width", type=positive_int, help="network width (32 for images)")
    train.add_argument(
        "--d-width", type=positive_int, help="discriminator width (--width; 2x for vectors)"
    )
    train.add_argument(
        "--loss", choices=LOSSES, help="adversarial loss (the model's: non_saturating, wasserstein)"
    )
    train.add_argument(
        "--d-steps", type=positive_int, help="D updates per G update (the model's: 1, 5)"
    )
    train.add_argument("--gradient-penalty", type=float, help="WGAN-GP weight (the model's: 0, 10)")
    train.add_argument("--r1", type=float, help="R1 penalty weight gamma (0)")
    train.add_argument("--spectral-norm", action="store_true", help="spectral norm in D")
    train.add_argument(
        "--augment",
        help="DiffAugment policy for images, e.g. translation,cutout,color (none)",
    )
    train.add_argument(
        "--pack", type=positive_int, help="PacGAN: D judges N samples at once (unconditional GANs)"
    )
    train.add_argument(
        "--ema-decay", type=float, help="keep an EMA of the generator, e.g. 0.999 (none)"
    )
    train.add_argument(
        "--lr",
        type=float,
        help="learning rate of every network, with the model's own optimizers (its "
        "default_optimizer; default: their learning rates too)",
    )
    train.add_argument(
        "--lr-decay",
        choices=("none", "cosine"),
        default="none",
        help="cosine: every learning rate decays along a cosine to 1%% of its start over the "
        "--epochs of the first run (a resumed run keeps the schedule it started with)",
    )
    train.add_argument(
        "--lr-decay-epochs",
        type=positive_int,
        metavar="N",
        help="with --lr-decay cosine: the cosine spans N epochs instead of --epochs, so a run "
        "may stop part-way along a longer schedule (--epochs 230 --lr-decay-epochs 400 trains "
        "the first 230 epochs of a 400-epoch schedule); past N the rate stays at 1%%",
    )
    train.add_argument(
        "--option",
        type=_option,
        action="append",
        metavar="NAME=VALUE",
        help="any other build option of the trainer (see its from_shape), e.g. beta=4.0; "
        "repeatable",
    )
    train.add_argument(
        "--num-examples",
        type=positive_int,
        metavar="N",
        help="train on N examples of the split: an evenly spaced subset of a file or image "
        "folder, the first N of a TFDS split or pack; the synthetic built-ins (ring8, grid25, "
        "stacked_mnist_5k) draw N (see kgan.data.load_arrays)",
    )
    train.add_argument("--image-size", type=positive_int, nargs=2, metavar=("H", "W"))
    train.add_argument("--data-dir", help="TFDS data folder")
    train.add_argument(
        "--cache",
        choices=("auto", "memory", "stream"),
        default="auto",
        help="read files into memory, or stream them from disk every epoch (auto: in memory "
        "when their float32 images fit 256 MiB); the batches are the same either way",
    )
    train.add_argument("--seed", type=int, default=0, help="seed of weights, data and latents")
    train.add_argument("--no-xla", action="store_true", help="do not compile steps with XLA")
    train.add_argument(
        "--strategy",
        choices=names.strategy_names(),
        default="default",
        help="tf.distribute strategy: mirrored (every local GPU), multi_worker (the machines "
        "of TF_CONFIG), one_device or default; --batch-size is then the global batch",
    )
    train.add_argument(
        "--mixed-precision",
        choices=("float32", "mixed_float16", "mixed_bfloat16"),
        default="float32",
        help="Keras dtype policy of the new model (float32); loss scaling is automatic",
    )
    train.add_argument(
        "--synchronized-batch-norm",
        action="store_true",
        help="batch-norm statistics over the global batch under a strategy",
    )
    train.add_argument(
        "--grid-every", type=int, default=1, help="write a sample grid every N epochs (0: never)"
    )
    train.add_argument(
        "--ex-post",
        type=positive_int,
        metavar="N",
        help="after training, fit an N-component Gaussian mixture on the encoder's codes of the "
        "training data and generate from it (ex-post sampling, saved with the model; trainers "
        "with an encoder: vae, vaegan, bigan; a BiGAN's has its num_clusters components)",
    )
    train.add_argument("--quiet", action="store_true", help="one line per epoch, no bar")
    train.add_argument(
        "--no-divergence-guard",
        action="store_true",
        help="keep training when a loss turns NaN or infinite (epochs with non-finite weights "
        "are still not saved)",
    )
    train.add_argument(
        "--no-collapse-check",
        action="store_true",
        help="do not measure sample diversity nor warn of mode collapse",
    )


def run(args):
    """Runs `kgan train`; returns the exit status."""
    # The strategy comes before any other TensorFlow call (MultiWorkerMirroredStrategy needs
    # it); it is a property of this process, not of the run, so a run resumes under any.
    strategy = kgan.distribute.get_strategy(args.strategy)
    with strategy.scope():
        return _train_in_scope(args, strategy)


def _is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type in ("chief", None) or (
        resolver.task_type == "worker" and resolver.task_id == 0
    )


def _train_in_scope(args, strategy):
    import keras

    if not _is_chief(strategy):
        # Every worker saves (Keras's saving reads the replicated variables on each), but only
        # the chief writes the run folder.
        args.out = tempfile.mkdtemp(prefix="kgan-worker-")
    started = _start_or_resume(args)
    if isinstance(started, int):
        return started
    model, options, initial_epoch = started
    if options.get("ex_post") and not hasattr(
        kgan.models.get_trainer(options["model"]), "fit_ex_post"
    ):
        samplers = sorted(n for n, c in kgan.models.TRAINERS.items() if hasattr(c, "fit_ex_post"))
        return fail(
            f"--ex-post needs a trainer with an encoder ({', '.join(samplers)}); "
            f"{options['model']} has none"
        )
    keras.utils.set_random_seed(options["seed"])
    info = kgan.data.info(options["data"], data_dir=options["data_dir"])
    image_size = tuple(options["image_size"]) if options["image_size"] else None
    # Epoch e's order depends on (seed, e) only, so a resumed run sees what an uninterrupted
    # one would.
    dataset = kgan.data.load_distributed(
        strategy,
        options["data"],
        batch_size=options["batch_size"],
        seed=options["seed"],
        drop_remainder=True,
        image_size=image_size,
        data_dir=options["data_dir"],
        num_examples=options.get("num_examples"),
        initial_epoch=initial_epoch,
        cache={"auto": "auto", "memory": True, "stream": False}[args.cache],
    )
    if model is None:
        keras.mixed_precision.set_global_policy(options["mixed_precision"])
        decay_steps = None
        if options.get("lr_decay", "none") == "cosine":
            decay_steps = _decay_steps(dataset, options.get("lr_decay_epochs") or args.epochs)
        shape = info.shape if image_size is None else (*image_size, info.shape[-1])
        model = _build(options, shape, info.num_classes, decay_steps)
    os.makedirs(args.out, exist_ok=True)
    if args.resume:
        _trim_history(os.path.join(args.out, kgan.callbacks.runs.HISTORY_FILE), initial_epoch)
    guard = None if options["no_divergence_guard"] else kgan.callbacks.DivergenceGuard()
    callbacks = _callbacks(args, options, model, dataset, guard, info, image_size)
    with warnings.catch_warnings():
        # The guard's message is printed once below, as the run's error.
        warnings.filterwarnings("ignore", "training diverged|epoch [0-9]+ not saved")
        model.fit(
            dataset,
            epochs=args.epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            shuffle=False,  # the dataset reshuffles itself every epoch
            verbose=2 if args.quiet else 1,
        )
    if guard is not None and guard.message:
        return _diverged(guard.message, args.out)
    checkpoint = os.path.join(args.out, kgan.callbacks.runs.MODEL_FILE)
    if options.get("ex_post"):
        _fit_ex_post(model, options, image_size, checkpoint)
    from kgan.image_grid import makes_images, save_sample_grid

    if makes_images(model):
        grid = os.path.join(args.out, kgan.callbacks.runs.SAMPLES_FILE)
        path = save_sample_grid(model, grid)
        print(f"wrote {checkpoint} and {path}")
    else:
        print(f"wrote {checkpoint}")
    return 0


def _fit_ex_post(model, options, image_size, checkpoint):
    """Fits the ex-post mixture on the training split's codes and saves the model with it."""
    x, _ = kgan.data.load_arrays(
        options["data"],
        split="train",
        image_size=image_size,
        data_dir=options["data_dir"],
        num_examples=options.get("num_examples"),
    )
    # A BiGAN's mixture is its clusters': it keeps num_clusters components.
    components = getattr(model, "num_clusters", None) or options["ex_post"]
    model.fit_ex_post(x, components)
    atomic_write(checkpoint, model.save)
    print(
        f"fitted the ex-post mixture ({components} components) on {len(x)} training examples; "
        "generate draws its latents from it"
    )


def _start_or_resume(args):
    """`(model, options, initial_epoch)` of the run in `args.out`: a loaded model and the
    run's own options when resuming, `(None, the command's options, 0)` when starting; or an
    exit status when the folder does not fit the request."""
    options = {
        k: v
        for k, v in vars(args).items()
        if k not in ("command", "resume", "quiet", "epochs", "strategy", "verbose", "cache")
    }
    if args.lr_decay_epochs is not None and args.lr_decay != "cosine" and not args.resume:
        return fail("--lr-decay-epochs sets the length of the cosine: add --lr-decay cosine")
    held = kgan.callbacks.runs.is_run_folder(args.out)
    if args.resume:
        if not held:
            return fail(f"--resume: {args.out!r} has no checkpoint; drop --resume to start")
        model, state = kgan.callbacks.runs.load_run(args.out)
        initial_epoch = state["epoch"]
        # A run from before an option existed takes its default.
        options = {**options, **state.get("options", {})}
        print(f"resuming {args.out} at epoch {initial_epoch}", flush=True)
    elif held:
        return fail(
            f"{args.out!r} already holds a run; pass --resume to continue it or choose another "
            "--out"
        )
    else:
        model, initial_epoch = None, 0
    if initial_epoch >= args.epochs:
        return fail(f"the run has done {initial_epoch} epochs already; raise --epochs")
    return model, options, initial_epoch


def _callbacks(args, options, model, dataset, guard, info, image_size):
    """The run's callbacks, in the order they must run."""
    import keras

    from kgan.image_grid import makes_images

    log_dir = (
        os.path.join(args.out, kgan.callbacks.runs.LOGS_FOLDER)
        if kgan.callbacks.tensorboard_available()
        else None
    )
    # Order matters: the guard stops first; the monitor adds its figure to the logs before the
    # history is written; the checkpoint comes last, so a crash between them leaves at most a
    # history row that --resume trims and writes again.
    callbacks = [kgan.callbacks.DataEpoch(dataset)]
    if guard is not None:
        callbacks.append(guard)
    if not options["no_collapse_check"]:
        callbacks.append(_collapse_monitor(options, image_size, info, model))
    history = os.path.join(args.out, kgan.callbacks.runs.HISTORY_FILE)
    callbacks.append(keras.callbacks.CSVLogger(history, append=args.resume))
    if log_dir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir))
    if makes_images(model) and options["grid_every"] > 0:
        callbacks.append(
            kgan.callbacks.SampleGrid(
                os.path.join(args.out, kgan.callbacks.runs.GRIDS_FOLDER),
                every=options["grid_every"],
                log_dir=log_dir,
                seed=options["seed"],
            )
        )
    callbacks.append(kgan.callbacks.RunCheckpoint(args.out, extra_state={"options": options}))
    return callbacks


def _diverged(message, out):
    """Reports a diverged run and which checkpoint it keeps; returns the exit status."""
    if os.path.exists(os.path.join(out, kgan.callbacks.runs.STATE_FILE)):
        done = kgan.callbacks.runs.read_state(out)["epoch"]
        kept = (
            f"{os.path.join(out, kgan.callbacks.runs.MODEL_FILE)} keeps epoch {done}, the last "
            "good one; start a new run with the changes (--resume would diverge the same way)"
        )
    else:
        kept = "no epoch finished with finite weights, so nothing was saved"
    print(f"kgan: error: {message}.\n{kept}", flush=True)
    return EXIT_DIVERGED


def _trim_history(path, epochs):
    """Keeps the rows of `history.csv` for the first `epochs` epochs (0-based epoch < epochs):
    an epoch cut short, or logged but not checkpointed, is trained and logged again."""
    if not os.path.exists(path):
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    header, body = rows[0], rows[1:]
    column = header.index("epoch") if "epoch" in header else None
    kept = [row for row in body if column is None or (row and int(row[column]) < epochs)]
    if len(kept) == len(body):
        return

    def write(target):
        with open(target, "w", newline="") as f:
            csv.writer(f).writerows([header, *kept])

    atomic_write(path, write)


def _collapse_monitor(options, image_size, info, model):
    """A `ModeCollapseMonitor` against up to 512 training examples, class by class when
    conditional."""
    x, y = kgan.data.load_arrays(
        options["data"],
        image_size=image_size,
        data_dir=options["data_dir"],
        num_examples=min(512, options.get("num_examples") or info.num_examples.get("train") or 512),
    )
    labels = y if getattr(model, "conditional", False) else None
    # Untrained generators draw near-constant samples; warnings start once training has moved.
    return kgan.callbacks.ModeCollapseMonitor(
        x, labels, num_samples=256, threshold=0.25, start_epoch=5
    )


def _decay_steps(dataset, epochs):
    """Optimizer updates over `epochs` epochs of `dataset`, for the learning-rate schedule."""
    # A distributed dataset's cardinality is a property: the steps of an epoch.
    cardinality = dataset.cardinality
    batches = int(cardinality() if callable(cardinality) else cardinality)
    if batches <= 0:
        raise ValueError(
            "--lr-decay cosine needs the number of batches per epoch, and this dataset does not "
            "declare it; train with --lr-decay none"
        )
    return batches * epochs


def _build(options, shape, num_classes, decay_steps=None):
    """Builds the registered trainer `options["model"]` from the given options, and compiles
    it with its default optimizers (at `--lr`, on the cosine decay when asked)."""
    trainer = kgan.models.get_trainer(options["model"])
    given = {key: options[key] for key in BUILD_FLAGS if options.get(key) not in (None, False)}
    given.update(dict(options.get("option") or ()))
    refused = [key for key in given if key not in trainer.build_options]
    if refused:
        flags = ", ".join(
            f"--{key.replace('_', '-')}" if key in BUILD_FLAGS else f"--option {key}"
            for key in refused
        )
        raise ValueError(
            f"{flags}: not options of {options['model']}; its options are "
            f"{', '.join(trainer.build_options) or 'none'}"
        )
    if "seed" in trainer.build_options:
        given.setdefault("seed", options["seed"])
    model = trainer.from_shape(shape, num_classes=num_classes, **given)
    optimizers = model.default_optimizers(options["lr"], cosine_decay_steps=decay_steps)
    model.compile(**optimizers, jit_compile=not options["no_xla"])
    return model
