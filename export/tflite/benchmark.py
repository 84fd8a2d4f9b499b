"""Latency of a `.tflite` model's signature at batch 1 and 64 with the LiteRT interpreter.

    python benchmark.py model.tflite model_int8.tflite --threads 4 --calls 200

Prints, per file, the median and 90th percentile time per call (warmed up) and the file size.
Inputs: N(0, I) floats for float inputs, zeros for integer ones (labels), batch first.
"""

import argparse
import os
import statistics
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter


def fill(details, batch, rng):
    shape = [batch if s < 0 or i == 0 else int(s) for i, s in enumerate(details["shape_signature"])]
    if np.issubdtype(details["dtype"], np.floating):
        return rng.standard_normal(shape).astype(details["dtype"])
    return np.zeros(shape, details["dtype"])


def time_calls(path, batch, threads, calls, warmup, signature=None):
    """Median and 90th percentile seconds per call of one signature at one batch size."""
    interpreter = Interpreter(model_path=path, num_threads=threads)
    signature = signature or next(iter(interpreter.get_signature_list()))
    details = interpreter.get_signature_runner(signature).get_input_details()
    rng = np.random.default_rng(0)
    for d in details.values():
        shape = fill(d, batch, rng).shape
        interpreter.resize_tensor_input(d["index"], shape, strict=False)
    interpreter.allocate_tensors()
    for d in details.values():
        interpreter.set_tensor(d["index"], fill(d, batch, rng))
    for _ in range(warmup):
        interpreter.invoke()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help=".tflite files")
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        help="interpreter threads (default: the CPUs this process may use)",
    )
    parser.add_argument("--calls", type=int, default=200, help="timed calls per batch size")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first")
    parser.add_argument("--signature", help="the signature to time (the first one)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64], help="batch sizes")
    args = parser.parse_args(argv)
    print(f"{'model':40s} {'batch':>5s} {'median ms':>10s} {'p90 ms':>8s} {'size KiB':>9s}")
    for path in args.models:
        size = os.path.getsize(path) / 1024
        for batch in args.batches:
            median, p90 = time_calls(
                path, batch, args.threads, args.calls, args.warmup, args.signature
            )
            name = os.path.basename(path)
            print(f"{name:40s} {batch:5d} {median * 1e3:10.3f} {p90 * 1e3:8.3f} {size:9.1f}")


if __name__ == "__main__":
    main()
