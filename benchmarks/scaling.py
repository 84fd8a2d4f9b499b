"""Benchmark: training throughput of the MNIST conditional GAN across device layouts.

`kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10)` trains on
`kgan.data.load("mnist_5k")` batches of 64 (the global batch) in every combination of:

- replicas: 1 (no strategy) or 2 (`tf.distribute.MirroredStrategy` over two logical CPU
  devices, 32 images each; the process splits its CPU into two devices before TensorFlow
  starts, so both replicas share the same cores);
- precision: float32, `mixed_float16` (with loss scaling) or `mixed_bfloat16`;
- XLA: `compile(jit_compile=True)` or `False` (on two replicas XLA compiles the math between
  the updates, see `kgan.models.gan._StepXLA`).

Each configuration is built and warmed up (tracing, XLA compilation), then timed over `--steps`
training steps (from the end of a first step to the end of the last, batches held in memory)
`--repeats` times, the configurations taking turns so that load on the machine hits all
alike; the table gives the median images/s (and steps/s) and the ratio to one replica in
float32 with XLA (the default). The machine is shared: the figures are lower bounds of
throughput on a quiet one.

Usage (about 10 minutes on 2 CPU cores; --quick about 3):
    python benchmarks/scaling.py [--steps 20] [--repeats 3] [--quick]
        [--out benchmarks/results/scaling.json]
"""

import argparse
import datetime
import os
import platform
import shlex
import statistics
import sys
import time

BATCH_SIZE = 64
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
BASELINE = "1 replica, float32, XLA"


def log(message):
    print(message, flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps per timed run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per configuration")
    parser.add_argument("--warmup", type=int, default=3, help="steps before timing")
    parser.add_argument(
        "--quick", action="store_true", help="a short check: --steps 5 --repeats 1, float32 only"
    )
    parser.add_argument("--out", default="benchmarks/results/scaling.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.repeats, args.warmup = 5, 1, 2
    if args.steps < 1 or args.repeats < 1 or args.warmup < 1:
        parser.error("--steps, --repeats and --warmup must be >= 1")
    return args


def split_cpu(count):
    """Splits the CPU into `count` logical devices; must run before TensorFlow starts."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    )


def configurations(quick):
    policies = ("float32",) if quick else POLICIES
    return [
        {"replicas": replicas, "policy": policy, "xla": xla}
        for replicas in (1, 2)
        for policy in policies
        for xla in (True, False)
    ]


def label(config):
    replicas = f"{config['replicas']} replica{'s' if config['replicas'] > 1 else ''}"
    return f"{replicas}, {config['policy']}, {'XLA' if config['xla'] else 'no XLA'}"


def build(config, strategy):
    """The default MNIST cGAN under `config`'s policy and strategy, compiled."""
    import contextlib

    import keras

    import kgan

    keras.mixed_precision.set_global_policy(config["policy"])
    try:
        scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
        with scope:
            keras.utils.set_random_seed(0)
            model = kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10, seed=0)
            model.compile(jit_compile=config["xla"])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return model


class _BatchClock:
    """Times the batches of a `fit` from the end of the first to the end of the last, which
    leaves out the setup of `fit` and of the dataset's iterator."""

    def __new__(cls):
        import keras

        class Clock(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                self.ends.append(time.perf_counter())

        clock = Clock()
        clock.ends = []
        return clock


def timed_fit(model, dataset):
    """Seconds per step of one `fit` over `dataset`."""
    clock = _BatchClock()
    model.fit(dataset, epochs=1, verbose=0, callbacks=[clock])
    return (clock.ends[-1] - clock.ends[0]) / (len(clock.ends) - 1)


def run(args):
    import numpy as np
    import tensorflow as tf

    import kgan

    # The batches are held in memory, so that the input pipeline costs next to nothing.
    source = kgan.data.load("mnist_5k", batch_size=BATCH_SIZE, seed=0, drop_remainder=True)
    images, labels = (np.concatenate(part) for part in zip(*source.take(args.steps + 1)))

    def batches(count):
        data = tf.data.Dataset.from_tensor_slices((images, labels))
        return data.take(count * BATCH_SIZE).batch(BATCH_SIZE, drop_remainder=True)

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    runs = []
    for config in configurations(args.quick):
        log(f"build and warm up: {label(config)}")
        model = build(config, mirrored if config["replicas"] == 2 else None)
        start = time.perf_counter()
        model.fit(batches(args.warmup), epochs=1, verbose=0)
        warmup = time.perf_counter() - start
        runs.append({"config": config, "model": model, "warmup_seconds": warmup, "seconds": []})
    for repeat in range(args.repeats):
        for entry in runs:
            seconds = timed_fit(entry["model"], batches(args.steps + 1))
            entry["seconds"].append(seconds)
            log(f"  run {repeat + 1}: {label(entry['config'])}: {seconds * 1000:.0f} ms/step")
    results = []
    for entry in runs:
        images = [BATCH_SIZE / s for s in entry["seconds"]]
        median = statistics.median(images)
        results.append(
            {
                **entry["config"],
                "label": label(entry["config"]),
                "images_per_second": round(median, 1),
                "steps_per_second": round(median / BATCH_SIZE, 3),
                "runs_images_per_second": [round(i, 1) for i in images],
                "warmup_seconds": round(entry["warmup_seconds"], 2),
            }
        )
    baseline = next(r for r in results if r["label"] == BASELINE)["images_per_second"]
    for r in results:
        r["ratio_to_baseline"] = round(r["images_per_second"] / baseline, 3)
    return results


def format_table(results):
    header = ("configuration", "images/s", "steps/s", "ratio", "warm-up s")
    rows = [
        (
            r["label"],
            f"{r['images_per_second']:.1f}",
            f"{r['steps_per_second']:.3f}",
            f"{r['ratio_to_baseline']:.2f}",
            f"{r['warmup_seconds']:.1f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    split_cpu(2)
    import keras
    import tensorflow as tf

    import kgan

    load = os.getloadavg()
    payload = {
        "command": shlex.join(["python", *sys.argv]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in load],
        },
        "versions": {
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "kgan": kgan.__version__,
        },
        "settings": {**vars(args), "batch_size": BATCH_SIZE, "baseline": BASELINE},
    }
    results = run(args)
    payload["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    payload["results"] = results
    log(f"\nscaling: MNIST cGAN training throughput, global batch {BATCH_SIZE}")
    log(f"{os.cpu_count()} CPUs, load average {load[0]:.1f} at start (a shared machine)")
    log(format_table(results))
    kgan.atomic.atomic_write_json(args.out, payload)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
