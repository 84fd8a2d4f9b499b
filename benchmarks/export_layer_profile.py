"""Benchmark: where a TFLite generator's time goes, layer block by layer block.

The generator is cut before each convolution (and at its output); each prefix, from the inputs
to the cut, is exported with `kgan.export.tflite` (float32 and int8, the same rewrites as the
full model) and timed at batch 1 by the LiteRT interpreter, on one thread and on all cores
(the fastest of 21 interleaved rounds, each the median call).
A block's time is the difference between consecutive prefixes; its FLOPs are counted as in
`benchmarks/export_latency.py`, and its rate is set against the float32 matmul (2048x2048,
numpy) timed in the same rounds at the same thread count (its fastest round too). The first
prefix also carries the interpreter's fixed cost per call, which `empty` (a model that only
adds 1 to the latent) measures alone.

What it shows: how close each convolution block runs to the machine's float32 matmul rate,
and whether int8 makes a block faster or slower on this CPU.

Usage:
    python benchmarks/export_layer_profile.py [--run cgan_mnist] [--calls 4200]
        [--out benchmarks/results/export_layer_profile.json]
"""

import argparse
import datetime
import os
import platform
import shlex
import statistics
import sys
import tempfile

import keras
import numpy as np
import tensorflow as tf

import kgan
import kgan.export
import kgan.zoo
from kgan.atomic import atomic_write_json

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_latency  # noqa: E402  (the timing and FLOP-counting helpers)

CONVOLUTIONS = (keras.layers.Conv2D, keras.layers.Conv2DTranspose)
# Many short rounds: on a shared machine that switches between a fast and a slow state every
# fraction of a second, each prefix's fastest round reads every prefix in the same (fast)
# state, so that their differences are the blocks' own times.
ROUNDS = 21


def cut_layers(generator):
    """The layers to cut after: the input of each convolution (seen through `Reshape`) and
    the output layer, in order."""
    cuts = []
    for layer in generator.layers:
        if not isinstance(layer, CONVOLUTIONS):
            continue
        source = layer._inbound_nodes[0].parent_nodes[0].operation
        if source not in cuts:
            cuts.append(source)
    output = generator.layers[-1]
    if output not in cuts:
        cuts.append(output)
    return cuts


def block_flops(generator, cuts):
    """FLOPs per sample of the Dense/convolution layers between consecutive cuts."""
    order = {layer: i for i, layer in enumerate(generator.layers)}
    bounds = [order[c] for c in cuts]
    flops = []
    for start, stop in zip([-1, *bounds[:-1]], bounds, strict=True):
        flops.append(export_latency.generator_flops(generator.layers[start + 1 : stop + 1]))
    return flops


def prefix_function(generator, cut, conditional, latent_dim):
    """`generate` of the generator's prefix up to `cut`, as `kgan.export.tflite` takes it."""
    prefix = keras.Model(generator.inputs, cut.output)
    specs = [tf.TensorSpec([None, latent_dim], tf.float32, name="z")]
    if conditional:
        specs.append(tf.TensorSpec([None], tf.int32, name="labels"))

        def call(z, labels):
            return {"images": prefix([z, labels], training=False)}

    else:

        def call(z):
            return {"images": prefix(z, training=False)}

    return tf.function(call, input_signature=specs)


def empty_function(latent_dim):
    spec = [tf.TensorSpec([None, latent_dim], tf.float32, name="z")]
    return tf.function(lambda z: {"images": z + 1.0}, input_signature=spec)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", default="cgan_mnist", help="preset, run folder or .keras file")
    parser.add_argument("--calls", type=int, default=4200, help="timed calls per prefix")
    parser.add_argument("--out", default="benchmarks/results/export_layer_profile.json")
    args = parser.parse_args(argv)
    is_preset = args.run in {p["name"] for p in kgan.zoo.list_presets()}
    model = (kgan.zoo.load if is_preset else kgan.export.load_model)(args.run)
    generator = model.generator
    cuts = cut_layers(generator)
    flops = block_flops(generator, cuts)
    names = [c.name for c in cuts]
    print(
        "blocks (cut after):", ", ".join(f"{n} {f / 1e6:.2f} MFLOP" for n, f in zip(names, flops))
    )
    rng = np.random.default_rng(0)
    feed = {"z": rng.standard_normal((1, model.latent_dim)).astype("float32")}
    if model.conditional:
        feed["labels"] = np.array([3], "int32")
    calls = {}
    with tempfile.TemporaryDirectory() as folder:
        prefixes = {"empty": empty_function(model.latent_dim)}
        for cut in cuts:
            prefixes[cut.name] = prefix_function(
                generator, cut, model.conditional, model.latent_dim
            )
        for quantization in ("float32", "int8"):
            for name, function in prefixes.items():
                path = kgan.export.tflite(
                    model,
                    os.path.join(folder, f"{name}_{quantization}.tflite"),
                    quantization=None if quantization == "float32" else quantization,
                    signatures={"generate": function},
                    check=False,
                )
                inputs = {k: v for k, v in feed.items() if name != "empty" or k == "z"}
                for threads in (1, os.cpu_count()):
                    runner = kgan.export.TFLiteModel(path, num_threads=threads)
                    runner(**inputs)  # sets the inputs; invoke alone is timed
                    calls[(name, quantization, threads)] = (
                        runner.interpreter.invoke,
                        args.calls,
                        50,
                    )
    timed = {
        "matmul_1": (export_latency.matmul_call(threads=1), 3 * ROUNDS, 1, 0.5),
        "matmul_all": (export_latency.matmul_call(), 3 * ROUNDS, 1, 0.5),
        **{f"{n}|{q}|{t}": spec for (n, q, t), spec in calls.items()},
    }
    rounds = export_latency.interleaved_rounds(timed, rounds=ROUNDS, budget=120.0)
    gflops = {  # the fastest round, as for the prefixes
        threads: 2 * export_latency.MATMUL_SIZE**3 / min(rounds.pop(f"matmul_{key}")) / 1e9
        for threads, key in ((1, "1"), (os.cpu_count(), "all"))
    }
    micros = {key: min(values) * 1e6 for key, values in rounds.items()}
    medians = {key: statistics.median(values) * 1e6 for key, values in rounds.items()}
    blocks = []
    for quantization in ("float32", "int8"):
        for threads in (1, os.cpu_count()):
            previous = micros[f"empty|{quantization}|{threads}"]
            for name, block in zip(names, flops, strict=True):
                total = micros[f"{name}|{quantization}|{threads}"]
                seconds = (total - previous) * 1e-6
                blocks.append(
                    {
                        "block_until": name,
                        "quantization": quantization,
                        "threads": threads,
                        "prefix_us": total,
                        "prefix_median_us": medians[f"{name}|{quantization}|{threads}"],
                        "block_us": total - previous,
                        "mflop": block / 1e6,
                        "gflops": block / seconds / 1e9 if seconds > 0 else None,
                        "of_matmul_rate": (block / seconds / 1e9) / gflops[threads]
                        if seconds > 0
                        else None,
                    }
                )
                previous = total
    print(f"\nmatmul GFLOP/s: {gflops[1]:.1f} on one thread, {gflops[os.cpu_count()]:.1f} on all")
    print(
        "empty model per call, us: "
        + ", ".join(
            f"{k.replace('empty|', '')} {v:.1f}" for k, v in micros.items() if k.startswith("empty")
        )
    )
    print("\n| block (until) | MFLOP | quantization | threads | us | GFLOP/s | of matmul rate |")
    print("|---|---|---|---|---|---|---|")
    for b in blocks:
        rate = "" if b["gflops"] is None else f"{b['gflops']:.1f}"
        share = "" if b["of_matmul_rate"] is None else f"{b['of_matmul_rate']:.2f}"
        print(
            f"| {b['block_until']} | {b['mflop']:.2f} | {b['quantization']} | {b['threads']} | "
            f"{b['block_us']:.1f} | {rate} | {share} |"
        )
    report = {
        "command": "python " + shlex.join(["benchmarks/export_layer_profile.py", *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "note": f"the fastest of {ROUNDS} interleaved rounds of each round's median invoke "
        "(prefix_median_us: the median round); a block's time is the difference of consecutive "
        "prefixes (the first block is the projection, the empty model's time subtracted)",
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "matmul_gflops": {str(k): v for k, v in gflops.items()},
        },
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "settings": vars(args),
        "empty_us": {k: v for k, v in micros.items() if k.startswith("empty")},
        "blocks": blocks,
    }
    atomic_write_json(args.out, report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
