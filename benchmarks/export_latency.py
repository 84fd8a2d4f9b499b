"""Benchmark: latency, size and parity of exported generators against running them in Keras.

Two generators: the conditional MNIST DCGAN (`kgan.models.build_trainer("cgan", (28, 28, 1),
num_classes=10)`, trained `--epochs` on `mnist_5k` or loaded from `--run`) and the 2-D mixture
MLP generator (`build_trainer("gan", (2,))`, trained briefly on `ring8`). For each, at batch 1
and 64, the time per call (warmed up; the median over 9 rounds, each timing every runtime in
turn, of the round's median call) of: eager Keras `generator(z)`,
`generator.predict`, the reloaded SavedModel's `generate` signature, and TFLite float32,
float16, dynamic-range and int8 models run by `kgan.export.TFLiteModel` (LiteRT interpreter,
`os.cpu_count()` threads; float32 and int8 also with 1 thread, and float32 converted with
`subpixel=False`, i.e. LiteRT's own TRANSPOSE_CONV, for a generator with transposed
convolutions). Also: file sizes,
parity against Keras (max abs error, PSNR, class consistency of 1,000 samples under the MNIST
reference classifier),
the generator's FLOPs per sample (counted from its Dense/Conv layers: 2 multiply-adds each),
the machine's float32 FLOP/s on a 2048x2048 matmul (numpy, all cores and one thread, timed in
the same rounds as the LiteRT runtimes, so that both see the same state of a shared machine)
and the ratio TFLite time / (FLOPs / FLOP/s), the distance from the compute floor, at the same
thread count (all-core TFLite against the all-core matmul, 1-thread TFLite against the 1-thread
one; the median over the rounds of each round's ratio, and the ratio of each side's best
round). With `--resize`, the MNIST generator is also trained with
`dcgan_generator(upsampling="resize")` to compare int8 quality.

Usage:
    python benchmarks/export_latency.py [--run runs/cgan_mnist | --run cgan_mnist] [--epochs 20]
        [--resize] [--out benchmarks/results/export_latency.json]
"""

import argparse
import datetime
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

import kgan
import kgan.export
import kgan.zoo
from kgan.atomic import atomic_write_json

QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")


ROUNDS = 9
# The runtimes whose per-round times the report keeps (the latency targets compare them).
ROUND_RUNTIMES = ("tflite_float32", "tflite_float32_1thread", "tflite_int8", "tflite_int8_1thread")
# Seconds to wait after a BLAS matmul or a TensorFlow call, whose pool threads spin for a while.
SETTLE_SECONDS = 0.5


def interleaved_rounds(calls, rounds=ROUNDS, budget=20.0):
    """Seconds per call of each runtime in each round: `calls` maps a name to `(callable,
    calls, warmup)` or `(callable, calls, warmup, settle)`, `settle` being seconds to wait
    after the runtime's turn (for BLAS threads that spin for a while after a call).

    Each runtime's calls are split over `rounds` rounds, each of which times every runtime in
    turn (the round's median call), so that a slow spell of a shared machine falls on every
    runtime alike instead of on the one being timed.
    """
    for call, _, warmup, *_ in calls.values():
        for _ in range(warmup):
            call()
    per_round = {name: [] for name in calls}
    for _ in range(rounds):
        for name, (call, count, _, *settle) in calls.items():
            per_round[name].append(
                median_seconds(call, max(count // rounds, 3), 0, budget=budget / rounds)
            )
            if settle:
                time.sleep(settle[0])
    return per_round


def interleaved_medians(calls, rounds=ROUNDS, budget=20.0):
    """The median over `interleaved_rounds` of each runtime's seconds per call."""
    per_round = interleaved_rounds(calls, rounds, budget)
    return {name: statistics.median(values) for name, values in per_round.items()}


def median_seconds(call, calls, warmup, budget=20.0):
    for _ in range(warmup):
        call()
    times = []
    deadline = time.perf_counter() + budget
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
        if time.perf_counter() > deadline and len(times) >= 10:
            break
    return statistics.median(times)


def generator_flops(generator):
    """Float operations per sample of the Dense and convolution layers (2 per multiply-add)
    of a model, or of a list of its layers."""
    flops = 0
    for layer in getattr(generator, "layers", generator):
        if isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            kh, kw, c_out, c_in = layer.kernel.shape
            h, w = layer.input.shape[1:3]
            flops += 2 * h * w * kh * kw * c_in * c_out
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, c_in, c_out = layer.kernel.shape
            h, w = layer.output.shape[1:3]
            flops += 2 * h * w * kh * kw * c_in * c_out
    return int(flops)


MATMUL_SIZE = 2048


def matmul_call(size=MATMUL_SIZE, threads=None):
    """One float32 `size`-square matmul (numpy's BLAS) on `threads` threads (None: all)."""
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).standard_normal((size, size)).astype("float32")
    b = a.T.copy()

    def call():
        with threadpool_limits(limits=threads):
            return a @ b

    return call


def machine_flops(size=MATMUL_SIZE, repeats=10, threads=None):
    """float32 FLOP/s of a `size`-square matmul, on `threads` threads or all."""
    return 2 * size**3 / median_seconds(matmul_call(size, threads), repeats, 2)


def train_mnist(epochs, upsampling, seed=0):
    keras.utils.set_random_seed(seed)
    if upsampling == "transpose":
        model = kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10, seed=seed)
    else:
        generator = kgan.networks.dcgan_generator(
            (28, 28, 1), latent_dim=64, num_classes=10, width=32, upsampling=upsampling
        )
        discriminator = kgan.networks.dcgan_discriminator((28, 28, 1), num_classes=10, width=32)
        model = kgan.ConditionalGAN(generator, discriminator, seed=seed)
    model.compile()
    data = kgan.data.load("mnist_5k", batch_size=64, seed=seed, drop_remainder=True)
    start = time.perf_counter()
    model.fit(data, epochs=epochs, verbose=2)
    return model, time.perf_counter() - start


def train_ring(epochs, seed=0):
    keras.utils.set_random_seed(seed)
    model = kgan.models.build_trainer("gan", (2,), seed=seed)
    model.compile()
    model.fit(kgan.data.load("ring8", batch_size=256, seed=seed), epochs=epochs, verbose=0)
    return model


def inputs_for(model, batch):
    rng = np.random.default_rng(1)
    z = rng.standard_normal((batch, model.latent_dim)).astype("float32")
    if model.conditional:
        return {"z": z, "labels": (np.arange(batch) % model.num_classes).astype("int32")}
    return {"z": z}


def measure(name, model, folder, calls, classifier, parity_samples):
    """Exports one generator every way and times and checks each."""
    print(f"\n== {name}", flush=True)
    result = {"flops_per_sample": generator_flops(model.generator), "params": 0}
    result["params"] = int(model.generator.count_params())
    saved = kgan.export.saved_model(model, os.path.join(folder, name, "saved_model"), check=False)
    paths = {}
    for q in QUANTIZATIONS:
        paths[q] = kgan.export.tflite(
            model,
            os.path.join(folder, name, f"{q}.tflite"),
            quantization=None if q == "float32" else q,
            check=False,
        )
    result["sizes_bytes"] = {q: os.path.getsize(p) for q, p in paths.items()}
    result["parity"] = {}
    for q, p in [("saved_model", saved), *paths.items()]:
        report = kgan.export.check_parity(
            model, p, num_samples=parity_samples, classifier=classifier
        )
        print(report, flush=True)
        result["parity"][q] = report.to_dict()
    loaded = tf.saved_model.load(saved)
    signature = loaded.signatures["generate"]
    runners = {q: kgan.export.TFLiteModel(p) for q, p in paths.items()}
    runners["float32_1thread"] = kgan.export.TFLiteModel(paths["float32"], num_threads=1)
    runners["int8_1thread"] = kgan.export.TFLiteModel(paths["int8"], num_threads=1)
    if any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in model.generator.layers):
        # The same generator converted with LiteRT's TRANSPOSE_CONV instead of sub-pixel convs.
        plain = kgan.export.tflite(
            model, os.path.join(folder, name, "transpose_conv.tflite"), subpixel=False, check=False
        )
        runners["float32_transpose_conv"] = kgan.export.TFLiteModel(plain)
    generator = model.generator
    result["latency_ms"] = {}
    for batch in (1, 64):
        feed = inputs_for(model, batch)
        net_inputs = [feed["z"], feed["labels"]] if model.conditional else feed["z"]
        tensors = {k: tf.constant(v) for k, v in feed.items()}
        many = calls if batch == 1 else max(calls // 4, 20)
        # The float32 runner's inputs stay set between its calls, so its interpreter can also
        # be timed alone: what the model costs without Python.
        tensorflow_runtimes = {
            "keras_eager": (lambda x=net_inputs: generator(x, training=False), many // 4, 5),
            "keras_predict": (
                lambda x=net_inputs: generator.predict(x, verbose=0),
                max(many // 20, 10),
                3,
            ),
            "saved_model": (lambda t=tensors: signature(**t), many, 10),
        }
        tflite_runtimes = {
            # The compute floor's matmul, timed in the same rounds: a slow spell of the
            # machine then falls on the floor as on the runtimes it is compared with.
            "matmul": (matmul_call(), 3 * ROUNDS, 1, SETTLE_SECONDS),
            "matmul_1thread": (matmul_call(threads=1), 3 * ROUNDS, 1, SETTLE_SECONDS),
            **{
                f"tflite_{q}": (lambda r=runner, f=feed: r(**f), many, 20)
                for q, runner in runners.items()
            },
            "tflite_float32_invoke_only": (runners["float32"].interpreter.invoke, many, 20),
        }
        # Two groups, so that TensorFlow's pool threads, which spin for a while after a call,
        # are idle before LiteRT's calls are timed on the same 2 cores.
        timings = interleaved_medians(tensorflow_runtimes)
        time.sleep(SETTLE_SECONDS)
        rounds = interleaved_rounds(tflite_runtimes)
        gflops = {
            key: [2 * MATMUL_SIZE**3 / t / 1e9 for t in rounds.pop(key)]
            for key in ("matmul", "matmul_1thread")
        }
        timings.update({k: statistics.median(v) for k, v in rounds.items()})
        result["latency_ms"][str(batch)] = {k: v * 1e3 for k, v in timings.items()}
        result.setdefault("matmul_gflops", {})[str(batch)] = {
            "all_cores": statistics.median(gflops["matmul"]),
            "1thread": statistics.median(gflops["matmul_1thread"]),
            "rounds": gflops["matmul"],
            "rounds_1thread": gflops["matmul_1thread"],
        }
        result.setdefault("rounds_ms", {})[str(batch)] = {
            k: [t * 1e3 for t in rounds[k]] for k in ROUND_RUNTIMES
        }
        floor_ratios(result, str(batch), rounds, gflops)
        print(
            f"batch {batch}: " + ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in timings.items()),
            flush=True,
        )
        print(
            f"batch {batch}: matmul {result['matmul_gflops'][str(batch)]['all_cores']:.1f} "
            f"GFLOP/s ({result['matmul_gflops'][str(batch)]['1thread']:.1f} on one thread); "
            f"TFLite float32 / compute floor {result['tflite_float32_over_floor'][str(batch)]:.2f} "
            f"({result['tflite_float32_1thread_over_floor_1thread'][str(batch)]:.2f} on one "
            "thread)",
            flush=True,
        )
    return result


def floor_ratios(result, batch, rounds, gflops):
    """TFLite float32 time over the compute floor (the generator's FLOPs at the matmul's
    FLOP/s, the same thread count), per round; stores the median and the best round's."""
    flops = result["flops_per_sample"] * int(batch)
    for key, runtime, matmul in (
        ("tflite_float32_over_floor", "tflite_float32", "matmul"),
        ("tflite_float32_1thread_over_floor_1thread", "tflite_float32_1thread", "matmul_1thread"),
        ("tflite_float32_invoke_over_floor", "tflite_float32_invoke_only", "matmul"),
    ):
        ratios = [
            seconds / (flops / (g * 1e9))
            for seconds, g in zip(rounds[runtime], gflops[matmul], strict=True)
        ]
        result.setdefault(key, {})[batch] = statistics.median(ratios)
        # Each at its best round: the machine's capability without a neighbour's load.
        best = min(rounds[runtime]) / (flops / (max(gflops[matmul]) * 1e9))
        result.setdefault(key + "_best_round", {})[batch] = best
    floor = "compute_floor_ms", "compute_floor_1thread_ms"
    for key, matmul in zip(floor, ("matmul", "matmul_1thread"), strict=True):
        result.setdefault(key, {})[batch] = flops / (statistics.median(gflops[matmul]) * 1e9) * 1e3


def evaluate_targets(results):
    targets = {}
    for name, r in results.items():
        lat1 = r["latency_ms"]["1"]
        # Among the float32 runtimes (the quantized files are judged by their own targets).
        others = {k: lat1[k] for k in ("keras_eager", "keras_predict", "saved_model")}
        fastest_other = min(others, key=others.get)
        targets[f"{name}: TFLite float32 fastest float32 runtime at batch 1"] = {
            # On all cores and on one thread alike.
            "met": max(lat1["tflite_float32"], lat1["tflite_float32_1thread"])
            < lat1[fastest_other],
            "tflite_float32_ms": lat1["tflite_float32"],
            "tflite_float32_1thread_ms": lat1["tflite_float32_1thread"],
            "fastest_other": fastest_other,
            "fastest_other_ms": lat1[fastest_other],
        }
        # The floor at the same thread count: all cores against the all-core matmul, one
        # thread against the one-thread matmul, each judged (the median over the rounds of the
        # per-round ratio). The 2-D generators are judged by their call overhead instead.
        for threads, key, runtime, floor in (
            ("all cores", "tflite_float32_over_floor", "tflite_float32", "compute_floor_ms"),
            (
                "one thread",
                "tflite_float32_1thread_over_floor_1thread",
                "tflite_float32_1thread",
                "compute_floor_1thread_ms",
            ),
        ):
            if name == "ring8_gan":
                break
            title = f"{name}: TFLite float32 within 1.5x of the compute floor (batch 1, {threads})"
            targets[title] = {
                "met": r[key]["1"] <= 1.5,
                "ratio": r[key]["1"],
                "ratio_best_round": r[key + "_best_round"]["1"],
                "ratio_batch_64": r[key]["64"],
                "ms": lat1[runtime],
                "floor_ms": r[floor]["1"],
            }
        targets[f"{name}: float32 parity <= 1e-5"] = {
            "met": r["parity"]["float32"]["max_abs_error"] <= 1e-5,
            "max_abs_error": r["parity"]["float32"]["max_abs_error"],
        }
        sizes = r["sizes_bytes"]
        targets[f"{name}: int8 file <= 30% of float32"] = {
            "met": sizes["int8"] <= 0.3 * sizes["float32"],
            "fraction": sizes["int8"] / sizes["float32"],
        }
        for threads, suffix in (("all cores", ""), ("one thread", "_1thread")):
            int8_ms, float32_ms = lat1["tflite_int8" + suffix], lat1["tflite_float32" + suffix]
            targets[f"{name}: int8 faster than float32 at batch 1 ({threads})"] = {
                "met": int8_ms < float32_ms,
                "int8_ms": int8_ms,
                "float32_ms": float32_ms,
                "int8_rounds_faster": sum(
                    i < f
                    for i, f in zip(
                        r["rounds_ms"]["1"]["tflite_int8" + suffix],
                        r["rounds_ms"]["1"]["tflite_float32" + suffix],
                        strict=True,
                    )
                ),
                "rounds": ROUNDS,
            }
        consistency = r["parity"]["int8"].get("exported_class_consistency")
        if consistency is not None:
            model_consistency = r["parity"]["int8"]["class_consistency"]
            targets[f"{name}: int8 class consistency within 2 points"] = {
                "met": abs(consistency - model_consistency) <= 0.02,
                "float": model_consistency,
                "int8": consistency,
            }
    ring = results.get("ring8_gan")
    if ring:
        speedup = ring["latency_ms"]["1"]["keras_eager"] / ring["latency_ms"]["1"]["tflite_float32"]
        targets["ring8_gan: TFLite >= 20x faster per call than eager Keras (batch 1)"] = {
            "met": speedup >= 20,
            "speedup": speedup,
        }
    return targets


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--run", help="a trained MNIST cgan: run folder, .keras file or preset (cgan_mnist)"
    )
    parser.add_argument("--epochs", type=int, default=20, help="MNIST training epochs (20)")
    parser.add_argument("--ring-epochs", type=int, default=5, help="ring8 training epochs (5)")
    parser.add_argument("--resize", action="store_true", help="also the resize-upsampling net")
    parser.add_argument("--calls", type=int, default=400, help="timed calls at batch 1 (400)")
    parser.add_argument("--parity-samples", type=int, default=1000, help="samples compared")
    parser.add_argument("--out", default="benchmarks/results/export_latency.json")
    args = parser.parse_args(argv)
    classifier, accuracy = kgan.metrics.reference_classifier("mnist_5k")
    flops_per_second = machine_flops()
    flops_per_second_1thread = machine_flops(threads=1)
    print(
        f"machine float32 matmul at the start: {flops_per_second / 1e9:.1f} GFLOP/s on all "
        f"cores, {flops_per_second_1thread / 1e9:.1f} on one thread (the compute floors use "
        "the matmul timed in the same rounds as the runtimes)",
        flush=True,
    )
    models, training = {}, {}
    if args.run:
        is_preset = args.run in {p["name"] for p in kgan.zoo.list_presets()}
        models["mnist_cgan"] = (kgan.zoo.load if is_preset else kgan.export.load_model)(args.run)
        training["mnist_cgan"] = {"loaded_from": args.run}
    else:
        models["mnist_cgan"], seconds = train_mnist(args.epochs, "transpose")
        training["mnist_cgan"] = {"epochs": args.epochs, "seconds": round(seconds, 1)}
    if args.resize:
        models["mnist_cgan_resize"], seconds = train_mnist(args.epochs, "resize")
        training["mnist_cgan_resize"] = {"epochs": args.epochs, "seconds": round(seconds, 1)}
    models["ring8_gan"] = train_ring(args.ring_epochs)
    training["ring8_gan"] = {"epochs": args.ring_epochs}
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, model in models.items():
            results[name] = measure(
                name, model, folder, args.calls, classifier, args.parity_samples
            )
            results[name]["training"] = training[name]
    targets = evaluate_targets(results)
    print("\n| generator | figure | batch 1 | batch 64 |\n|---|---|---|---|")
    for name, r in results.items():
        for key in r["latency_ms"]["1"]:
            one, many = r["latency_ms"]["1"][key], r["latency_ms"]["64"][key]
            print(f"| {name} | {key} ms | {one:.3f} | {many:.3f} |")
        for q, size in r["sizes_bytes"].items():
            print(f"| {name} | {q} size KiB | {size / 1024:.1f} | |")
        print(
            f"| {name} | compute floor ms | {r['compute_floor_ms']['1']:.4f} | "
            f"{r['compute_floor_ms']['64']:.3f} |"
        )
        print(
            f"| {name} | compute floor, 1 thread, ms | {r['compute_floor_1thread_ms']['1']:.4f} | "
            f"{r['compute_floor_1thread_ms']['64']:.3f} |"
        )
    print("\ntargets:")
    for name, t in targets.items():
        detail = {k: (float(f"{v:.4g}") if isinstance(v, float) else v) for k, v in t.items()}
        print(f"  {'met   ' if t['met'] else 'MISSED'} {name}: {detail}")
    report = {
        "command": "python " + shlex.join(["benchmarks/export_latency.py", *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "note": f"per call: median over {ROUNDS} interleaved rounds of each round's median; "
        "compute floors from the matmul timed in the same rounds, ratios the median of the "
        "per-round ratios (best_round: each side's best round); "
        "1-minute load average at the end of the run: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "float32_matmul_gflops_at_start": flops_per_second / 1e9,
            "float32_matmul_gflops_1thread_at_start": flops_per_second_1thread / 1e9,
        },
        "versions": {
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "kgan": kgan.__version__,
        },
        "settings": vars(args),
        "reference_classifier": {"test_accuracy": accuracy},
        "results": results,
        "targets": targets,
    }
    atomic_write_json(args.out, report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
