"""Benchmark: kgan's default conditional GAN against the keras-io "Conditional GAN" recipe.

Both train in one process on `kgan.data.load("mnist_5k")` (4,000 real MNIST training digits).

1. Quality under a wall-clock budget: each model trains epoch by epoch for `--budget` seconds
   of training (tracing and XLA compilation count, evaluation does not). Every `--eval-every`
   epochs, class consistency is measured: the share of 100 samples per class (fixed latents)
   that `kgan.metrics.reference_classifier("mnist_5k")` assigns to the requested label. Reported:
   the curve, the training seconds to 0.90 and 0.95, the final value, a 10x10 grid per model.
   The time ratio is kgan / keras-io; when keras-io never reaches a threshold it is the bound
   kgan's time / keras-io's training seconds (>= budget), printed as "<= x".
2. Training throughput in images/s (median of 3 timed runs of `--throughput-steps` steps, after
   a warm-up run; the configurations take turns so that load on the machine hits all alike):
   (a) the keras-io trainer, Keras's default `jit_compile="auto"` (no XLA on CPU-only machines);
   (b) the same with `jit_compile=True`; (c) `kgan.ConditionalGAN` driving the keras-io
   networks, `compile()` defaults (XLA on); (d) the same with `jit_compile=False`; (e) kgan's
   default cGAN. Ratios: c/a (each its defaults), d/a (no XLA on either), c/b (XLA on both).

The keras-io recipe (latent 128, batch 64, Adam 3e-4, one-hot labels appended to the latents
and as image channels) is re-typed here from its published architecture. The script prints a
table (figure, kgan, keras-io, ratio) and writes it, with curves, settings, machine and
versions, as JSON; the sample grids go next to the JSON.

Usage (the full run takes about 2 * budget plus ~20 minutes on 2 CPU cores):
    python benchmarks/cgan_mnist.py [--budget 600] [--eval-every 1] [--throughput-steps 30]
        [--out benchmarks/results/cgan_mnist.json] [--skip-quality] [--skip-throughput]
"""

import argparse
import datetime
import os
import platform
import shlex
import statistics
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

import kgan

NUM_CLASSES, IMAGE_SIZE, BATCH_SIZE = 10, 28, 64
KERASIO_LATENT_DIM, KERASIO_LEARNING_RATE = 128, 3e-4
THRESHOLDS = ("0.90", "0.95")
SAMPLES_PER_CLASS = 100
REPEATS = 3


def log(message):
    print(message, flush=True)


# The keras-io recipe ---------------------------------------------------------------------------


def _kerasio_generator_stack(x):
    """The recipe's generator layers: `[batch, latent + classes]` to images in [0, 1]."""
    channels = KERASIO_LATENT_DIM + NUM_CLASSES
    x = layers.Dense(7 * 7 * channels)(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    x = layers.Reshape((7, 7, channels))(x)
    for _ in range(2):
        x = layers.Conv2DTranspose(128, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
    return layers.Conv2D(1, 7, padding="same", activation="sigmoid")(x)


def _kerasio_discriminator_stack(x):
    """The recipe's discriminator layers: `[batch, 28, 28, 1 + classes]` to logits `[batch, 1]`."""
    for filters in (64, 128):
        x = layers.Conv2D(filters, 3, strides=2, padding="same")(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
    return layers.Dense(1)(layers.GlobalMaxPooling2D()(x))


class KerasIOConditionalGAN(keras.Model):
    """The keras-io trainer: one D pass on [fake; real], then a G step on misleading labels.

    Trained on `(images in [0, 1], one-hot labels)`.

    Args:
        discriminator: model from `[batch, 28, 28, 1 + classes]` to logits.
        generator: model from `[batch, latent + classes]` to images in [0, 1].
    """

    def __init__(self, discriminator, generator):
        super().__init__()
        self.discriminator, self.generator = discriminator, generator
        self.seed_generator = keras.random.SeedGenerator(0)
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")

    @property
    def metrics(self):
        return [self.g_loss_tracker, self.d_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

    def _latents(self, batch, one_hot):
        z = keras.random.normal((batch, KERASIO_LATENT_DIM), seed=self.seed_generator)
        return ops.concatenate([z, one_hot], axis=1)  # [batch, latent + classes]

    def train_step(self, data):
        real, one_hot = data
        batch = ops.shape(real)[0]
        label_maps = ops.broadcast_to(
            ops.reshape(one_hot, (-1, 1, 1, NUM_CLASSES)),
            (batch, IMAGE_SIZE, IMAGE_SIZE, NUM_CLASSES),
        )
        fake = self.generator(self._latents(batch, one_hot))
        fake_and_maps = ops.concatenate([fake, label_maps], axis=-1)
        real_and_maps = ops.concatenate([real, label_maps], axis=-1)
        both = ops.concatenate([fake_and_maps, real_and_maps], axis=0)  # [2 batch, 28, 28, 11]
        targets = ops.concatenate([ops.ones((batch, 1)), ops.zeros((batch, 1))], axis=0)
        d_vars = self.discriminator.trainable_weights
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(targets, self.discriminator(both))
        self.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, d_vars), d_vars))

        latents = self._latents(batch, one_hot)
        g_vars = self.generator.trainable_weights
        with tf.GradientTape() as tape:
            fake = self.generator(latents)
            logits = self.discriminator(ops.concatenate([fake, label_maps], axis=-1))
            g_loss = self.loss_fn(ops.zeros((batch, 1)), logits)
        self.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, g_vars), g_vars))
        self.g_loss_tracker.update_state(g_loss)
        self.d_loss_tracker.update_state(d_loss)
        return {m.name: m.result() for m in self.metrics}


def _kerasio_optimizers():
    return {
        "d_optimizer": keras.optimizers.Adam(learning_rate=KERASIO_LEARNING_RATE),
        "g_optimizer": keras.optimizers.Adam(learning_rate=KERASIO_LEARNING_RATE),
    }


def build_kerasio(jit_compile="auto"):
    """Builds and compiles the keras-io recipe (by default with Keras's `jit_compile="auto"`)."""
    keras.utils.set_random_seed(0)
    z = keras.Input((KERASIO_LATENT_DIM + NUM_CLASSES,))
    generator = keras.Model(z, _kerasio_generator_stack(z), name="generator")
    x = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1 + NUM_CLASSES))
    discriminator = keras.Model(x, _kerasio_discriminator_stack(x), name="discriminator")
    model = KerasIOConditionalGAN(discriminator, generator)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    model.compile(**_kerasio_optimizers(), loss_fn=loss_fn, jit_compile=jit_compile)
    return model


def kerasio_samples(model, labels, seed=0):
    """Samples of the keras-io generator for `labels`, mapped from [0, 1] to [-1, 1]."""
    z = np.random.default_rng(seed).standard_normal((len(labels), KERASIO_LATENT_DIM))
    one_hot = np.eye(NUM_CLASSES, dtype="float32")[labels]
    inputs = np.concatenate([z.astype("float32"), one_hot], axis=1)
    return np.asarray(model.generator(inputs, training=False)) * 2.0 - 1.0


# kgan models ----------------------------------------------------------------------------------


def build_kgan_wrapped(jit_compile="auto"):
    """`kgan.ConditionalGAN` with the keras-io networks and optimizers (images in [0, 1])."""
    keras.utils.set_random_seed(0)
    latents = keras.Input((KERASIO_LATENT_DIM,), name="latents")
    g_labels = keras.Input((), dtype="int32", name="labels")
    one_hot = layers.CategoryEncoding(NUM_CLASSES, output_mode="one_hot")(g_labels)
    x = layers.Concatenate()([latents, one_hot])
    generator = keras.Model([latents, g_labels], _kerasio_generator_stack(x), name="generator")
    images = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 1), name="images")
    d_labels = keras.Input((), dtype="int32", name="labels")
    maps = layers.CategoryEncoding(NUM_CLASSES, output_mode="one_hot")(d_labels)
    maps = layers.UpSampling2D(IMAGE_SIZE)(layers.Reshape((1, 1, NUM_CLASSES))(maps))
    logits = _kerasio_discriminator_stack(layers.Concatenate()([images, maps]))
    discriminator = keras.Model([images, d_labels], logits, name="discriminator")
    model = kgan.ConditionalGAN(
        generator, discriminator, seed=0
    )  # reads num_classes off CategoryEncoding
    model.compile(**_kerasio_optimizers(), jit_compile=jit_compile)
    return model


def build_kgan_default():
    """kgan's default conditional GAN for MNIST, compiled with every default."""
    keras.utils.set_random_seed(0)
    model = kgan.models.build_trainer("cgan", (IMAGE_SIZE, IMAGE_SIZE, 1), num_classes=10, seed=0)
    model.compile()
    return model


def uses_xla(model):
    if isinstance(model, kgan.ConditionalGAN):
        return bool(model.get_compile_config()["jit_compile"])
    return bool(model.jit_compile)


def describe(model):
    """The settings of a built, compiled model, read from the model itself."""
    ours = isinstance(model, kgan.ConditionalGAN)
    adam = model.d_optimizer.get_config()
    return {
        "class": type(model).__name__,
        "latent_dim": model.latent_dim if ours else KERASIO_LATENT_DIM,
        "d_width": next(x.filters for x in model.discriminator.layers if hasattr(x, "filters")),
        "loss": model.loss_name if ours else "BinaryCrossentropy(from_logits=True)",
        "optimizer": f"Adam(lr={adam['learning_rate']:g}, beta_1={adam['beta_1']:g})",
        "xla": uses_xla(model),
        "generator_params": model.generator.count_params(),
        "discriminator_params": model.discriminator.count_params(),
    }


def datasets():
    """The same batches three ways: kgan's [-1, 1], [0, 1] with int labels, [0, 1] one-hot."""
    base = kgan.data.load("mnist_5k", batch_size=BATCH_SIZE, seed=0, drop_remainder=True)
    return {
        "kgan": base,
        "unit": base.map(lambda x, y: ((x + 1.0) / 2.0, y)),
        "kerasio": base.map(lambda x, y: ((x + 1.0) / 2.0, tf.one_hot(y, NUM_CLASSES))),
    }


# Measurements ---------------------------------------------------------------------------------


class BudgetedEvaluation(keras.callbacks.Callback):
    """Stops `fit` after `budget` seconds of training, scoring the model every few epochs.

    The clock runs from `start()` (called just before `fit`) and stops while `evaluate` runs.

    Args:
        args: the command line's `budget` (training seconds) and `eval_every` (epochs between
            evaluations; the last epoch is always evaluated).
        evaluate: function from the model to its class consistency.
        label: the model's name in progress lines.
    """

    def __init__(self, args, evaluate, label):
        super().__init__()
        self.args, self.evaluate, self.label = args, evaluate, label
        self.seconds, self.epochs, self.curve = 0.0, 0, []

    def start(self):
        self._since = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.perf_counter() - self._since
        self.epochs = epoch + 1
        done = self.seconds >= self.args.budget
        if done or self.epochs % self.args.eval_every == 0:
            point = {"epoch": self.epochs, "seconds": round(self.seconds, 2)}
            point["consistency"] = self.evaluate(self.model)
            point.update({k: round(float(v), 4) for k, v in (logs or {}).items()})
            self.curve.append(point)
            log(f"  [{self.label}] " + ", ".join(f"{k} {v}" for k, v in point.items()))
        self.model.stop_training = done
        self._since = time.perf_counter()


def train_for_budget(model, dataset, evaluate, args, label):
    """Trains `model` for `args.budget` training seconds; returns its curve and summary."""
    clock = BudgetedEvaluation(args, evaluate, label)
    clock.start()
    model.fit(dataset, epochs=10**6, callbacks=[clock], shuffle=False, verbose=0)
    time_to = {}
    for threshold in THRESHOLDS:
        hits = [p for p in clock.curve if p["consistency"] >= float(threshold)]
        time_to[threshold] = {k: hits[0][k] for k in ("seconds", "epoch")} if hits else None
    return {
        "epochs": clock.epochs,
        "training_seconds": round(clock.seconds, 2),
        "seconds_per_epoch": round(clock.seconds / clock.epochs, 2),
        "final_consistency": clock.curve[-1]["consistency"],
        "time_to": time_to,
        "curve": clock.curve,
    }


def time_ratio(ours, theirs, threshold):
    """kgan's time to a threshold over keras-io's, or a bound when keras-io never got there."""
    mine, peer = ours["time_to"][threshold], theirs["time_to"][threshold]
    if mine is None:
        return {"value": None, "text": "kgan not reached"}
    if peer is None:  # keras-io needs more than all its training seconds (>= the budget)
        bound = mine["seconds"] / theirs["training_seconds"]
        return {"value": round(bound, 3), "upper_bound": True, "text": f"<= {bound:.2f}"}
    value = mine["seconds"] / peer["seconds"]
    return {"value": round(value, 3), "upper_bound": False, "text": f"{value:.2f}"}


def run_quality(args, data, classifier):
    labels = np.repeat(np.arange(NUM_CLASSES), SAMPLES_PER_CLASS).astype("int32")
    grid_labels = np.repeat(np.arange(NUM_CLASSES), 10).astype("int32")  # one row per class
    contestants = {
        "kgan": (
            build_kgan_default,
            lambda m: kgan.metrics.generated_class_consistency(
                m, classifier, num_per_class=SAMPLES_PER_CLASS, seed=0
            ),
            lambda m: m.generate(labels=grid_labels, seed=0),
        ),
        "kerasio": (
            build_kerasio,
            lambda m: kgan.metrics.class_consistency(
                kerasio_samples(m, labels), labels, classifier
            ),
            lambda m: kerasio_samples(m, grid_labels),
        ),
    }
    results = {}
    for name, (build, consistency, grid) in contestants.items():
        log(f"quality: {name}, {args.budget:g} training seconds")
        model = build()
        settings = describe(model)
        log(f"  settings: {settings}")
        results[name] = {
            "model": settings,
            **train_for_budget(model, data[name], consistency, args, name),
        }
        path = f"{os.path.splitext(args.out)[0]}_{name}.png"
        results[name]["grid"] = kgan.image_grid.save_image_grid(grid(model), path, columns=10)
    results["ratios"] = {t: time_ratio(results["kgan"], results["kerasio"], t) for t in THRESHOLDS}
    return results


def run_throughput(args, data):
    """Images/s of the five configurations, taking turns, median of `REPEATS` timed runs."""
    configs = {
        "a_kerasio_default": (build_kerasio, {}, "kerasio"),
        "b_kerasio_xla": (build_kerasio, {"jit_compile": True}, "kerasio"),
        "c_kgan_kerasio_nets_xla": (build_kgan_wrapped, {}, "unit"),
        "d_kgan_kerasio_nets_no_xla": (build_kgan_wrapped, {"jit_compile": False}, "unit"),
        "e_kgan_default_cgan": (build_kgan_default, {}, "kgan"),
    }

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.since = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = time.perf_counter() - self.since

    steps, models, rates = args.throughput_steps, {}, {name: [] for name in configs}
    for name, (build, kwargs, source) in configs.items():
        models[name] = build(**kwargs)
        models[name].fit(data[source].repeat(), steps_per_epoch=steps, shuffle=False, verbose=0)
        log(f"throughput: {name} built and warmed up (XLA {uses_xla(models[name])})")
    for repeat in range(REPEATS):
        for name, (_, _, source) in configs.items():
            timer = EpochTimer()
            dataset = data[source].repeat()
            models[name].fit(
                dataset, steps_per_epoch=steps, callbacks=[timer], shuffle=False, verbose=0
            )
            rates[name].append(round(steps * BATCH_SIZE / timer.seconds, 1))
            log(f"  run {repeat + 1}/{REPEATS} {name}: {rates[name][-1]:.0f} img/s")
    return {
        name: {"median": statistics.median(runs), "runs": runs, "xla": uses_xla(models[name])}
        for name, runs in rates.items()
    }


# Report ---------------------------------------------------------------------------------------


def table_rows(results):
    """The report as rows of (figure, kgan, keras-io, ratio) strings."""
    rows = []
    if "quality" in results:
        ours, theirs = results["quality"]["kgan"], results["quality"]["kerasio"]
        for key, label, digits in (
            ("epochs", "epochs trained", 0),
            ("seconds_per_epoch", "training s per epoch", 1),
            ("final_consistency", "final class consistency", 3),
        ):
            a, b = ours[key], theirs[key]
            rows.append((label, f"{a:.{digits}f}", f"{b:.{digits}f}", f"{a / max(b, 1e-9):.2f}"))
        for t in THRESHOLDS:
            cells = [r["time_to"][t] for r in (ours, theirs)]
            cells = [f"{c['seconds']:.1f}" if c else "not reached" for c in cells]
            rows.append(
                (
                    f"training s to consistency {t} (ratio <= 0.33)",
                    *cells,
                    results["quality"]["ratios"][t]["text"],
                )
            )
    if "throughput" in results:
        speed = results["throughput"]
        for label, ours, theirs in (
            ("img/s, each default (c/a >= 1)", "c_kgan_kerasio_nets_xla", "a_kerasio_default"),
            ("img/s, no XLA (d/a >= 1)", "d_kgan_kerasio_nets_no_xla", "a_kerasio_default"),
            ("img/s, XLA on both (c/b >= 1)", "c_kgan_kerasio_nets_xla", "b_kerasio_xla"),
            ("img/s, kgan default cGAN (e/a)", "e_kgan_default_cgan", "a_kerasio_default"),
        ):
            a, b = speed[ours]["median"], speed[theirs]["median"]
            rows.append((label, f"{a:.0f}", f"{b:.0f}", f"{a / b:.2f}"))
    return rows


def format_table(rows):
    rows = [("figure", "kgan", "keras-io", "ratio"), *rows]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=600, help="training seconds per model")
    parser.add_argument("--eval-every", type=int, default=1, help="epochs between evaluations")
    parser.add_argument("--throughput-steps", type=int, default=30, help="steps per timed run")
    parser.add_argument("--out", default="benchmarks/results/cgan_mnist.json")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args(argv)
    if args.budget <= 0 or args.eval_every < 1 or args.throughput_steps < 1:
        parser.error("--budget must be > 0; --eval-every and --throughput-steps must be >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    results = {
        "command": shlex.join(["python", *sys.argv]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "settings": {**vars(args), "batch_size": BATCH_SIZE, "per_class": SAMPLES_PER_CLASS},
    }
    results["machine"]["python"] = platform.python_version()
    results["versions"]["kgan"] = kgan.__version__
    data = datasets()
    if not args.skip_quality:
        log("reference classifier (trained and cached on first use)")
        classifier, accuracy = kgan.metrics.reference_classifier("mnist_5k")
        results["reference_classifier"] = {"test_accuracy": accuracy}
        log(f"  test accuracy {accuracy:.4f}")
        results["quality"] = run_quality(args, data, classifier)
    if not args.skip_throughput:
        results["throughput"] = run_throughput(args, data)
    rows = table_rows(results)
    results["table"] = [dict(zip(("figure", "kgan", "keras-io", "ratio"), r)) for r in rows]
    log(f"\ncgan_mnist: kgan default cGAN vs keras-io Conditional GAN, {os.cpu_count()} CPUs")
    if "reference_classifier" in results:
        log(f"reference classifier test accuracy: {accuracy:.4f}")
    log(format_table(rows))
    kgan.atomic.atomic_write_json(args.out, results)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
