"""First calls as a user meets them, each in a fresh process: `generate` over changing sample
counts, and the command line's start.

1. `generate`: a model loaded from a preset (the checkout's `zoo/`) makes ten calls with ten
   different sample counts (10, 20, ..., 100), or ten calls of one count (55, the same total);
   each series in its own fresh process, the two alternating, `--repeats` times; the seconds of
   the ten calls (tracing included), medians, and their ratio.
2. The command line: wall seconds of `kgan --help`, `kgan train --help` and an argument error
   (`kgan train dcgan`), beside `python -c "import tensorflow"`, medians of `--repeats` runs.

    python benchmarks/first_call.py [--preset cgan_mnist] [--repeats 5]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")

GENERATE = """
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import kgan
model = kgan.zoo.load(sys.argv[1], verbose=False)
counts = json.loads(sys.argv[2])
extra = lambda n: {"labels": [i % model.num_classes for i in range(n)]} if getattr(
    model, "conditional", False) else {}
started = time.perf_counter()
for i, n in enumerate(counts):
    model.generate(n, seed=i, **extra(n))
print("SECONDS", time.perf_counter() - started)
"""


def _seconds(command, env=None):
    started = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, check=False)
    return time.perf_counter() - started


def generate_series(preset, counts):
    env = dict(os.environ, KGAN_ZOO_URL="", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("KGAN_ZOO_URL")
    out = subprocess.run(
        [sys.executable, "-c", GENERATE, preset, json.dumps(counts)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(next(x for x in out.splitlines() if x.startswith("SECONDS")).split()[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="cgan_mnist")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(RESULTS, "first_call.json"))
    args = parser.parse_args(argv)
    varying, same = list(range(10, 101, 10)), [55] * 10
    series = {"ten_counts": [], "one_count": []}
    for _ in range(args.repeats):
        series["ten_counts"].append(generate_series(args.preset, varying))
        series["one_count"].append(generate_series(args.preset, same))
    median = {k: statistics.median(v) for k, v in series.items()}
    ratio = median["ten_counts"] / median["one_count"]
    print(
        f"generate ({args.preset}), ten calls: ten counts {median['ten_counts']:.3f} s, one "
        f"count {median['one_count']:.3f} s; ratio {ratio:.2f} (target <= 1.5)"
    )
    kgan_command = os.path.join(os.path.dirname(sys.executable), "kgan")
    commands = {
        "kgan --help": [kgan_command, "--help"],
        "kgan train --help": [kgan_command, "train", "--help"],
        "kgan train dcgan (argument error)": [kgan_command, "train", "dcgan"],
        'python -c "import tensorflow"': [sys.executable, "-c", "import tensorflow"],
    }
    startup = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, command in commands.items():
            startup[name].append(_seconds(command))
    startup_median = {name: statistics.median(v) for name, v in startup.items()}
    for name, seconds in startup_median.items():
        print(f"{name}: {seconds:.2f} s")
    report = {
        "command": "python benchmarks/first_call.py " + " ".join(sys.argv[1:]),
        "cpu_threads": os.cpu_count(),
        "load_average": os.getloadavg(),
        "generate": {
            "preset": args.preset,
            "counts": {"ten_counts": varying, "one_count": same},
            "seconds": series,
            "median_s": median,
            "ratio": ratio,
        },
        "startup": {"seconds": startup, "median_s": startup_median},
    }
    from kgan.atomic import atomic_write_json

    atomic_write_json(args.out, report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
