"""Benchmark: `kgan.mixture.GaussianMixture` against `sklearn.mixture.GaussianMixture`.

Both fit the same synthetic mixture in one process, from the same initial parameters
(`weights_init`, `means_init`, `precisions_init`: uniform weights, k data points as means, the
inverse data variance as precision) for the same number of EM iterations (`tol=0`), with the
default threads of each library. Reported for (n, d, k) = (100k, 16, 10), (200k, 32, 20) and
(1M, 16, 10), "full" and "diag" covariances:

1. seconds per EM iteration. kgan runs the whole loop in one graph, so its figure is
   (median time of a `max_iter` fit - median time of a 1-iteration fit) / (max_iter - 1), after
   a warm-up (XLA compiles once per data shape); initialization and the final E-step cancel.
   scikit-learn times each iteration itself (`verbose=2`): the median over all iterations of
   the repeats. Ratio: sklearn / kgan.
2. the final mean log-likelihood (`score(X)`) of both, and their relative difference (kgan
   fits in float32, its default; scikit-learn in float64).
3. the peak resident memory of a child process that fits 1M samples streamed from a
   `tf.data.Dataset` whose batches are generated one at a time (the data never exist whole),
   read from `ru_maxrss`; also the RSS after imports, and the streamed seconds per iteration.

The script prints a table (figure, kgan, sklearn, ratio) and writes it with the settings,
machine and versions as JSON. The machines are shared and noisy: quote medians and ratios.

Usage (the full run takes about 15-30 minutes on 2 CPU cores):
    python benchmarks/gmm_em.py [--quick] [--max-iter 10] [--repeats 3]
        [--out benchmarks/results/gmm_em.json] [--compare-xla] [--skip-streamed]
"""

import argparse
import contextlib
import datetime
import io
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import tensorflow as tf  # noqa: E402
from gmm_em_data import mixture_spec, sample_batch  # noqa: E402
from process_memory import peak_rss_mib  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture  # noqa: E402

from kgan import atomic  # noqa: E402
from kgan.mixture import GaussianMixture, _graph  # noqa: E402

FULL_SHAPES = [(100_000, 16, 10), (200_000, 32, 20), (1_000_000, 16, 10)]
QUICK_SHAPES = [(20_000, 8, 5), (40_000, 16, 10)]
STREAM_BATCH = 50_000


def log(message):
    print(message, flush=True)


def initial_parameters(X, k, covariance_type, seed=1):
    """The same starting point for both libraries."""
    rng = np.random.default_rng(seed)
    d = X.shape[1]
    variance = X.var(axis=0).mean()
    precisions = {
        "full": np.repeat(np.eye(d)[None] / variance, k, axis=0),
        "diag": np.full((k, d), 1.0 / variance),
    }[covariance_type]
    return dict(
        weights_init=np.full(k, 1.0 / k),
        means_init=X[rng.choice(len(X), k, replace=False)],
        precisions_init=precisions,
    )


def timed_fit(make, X, max_iter):
    model = make(max_iter)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return time.perf_counter() - started, model


def per_iteration(make, X, max_iter, repeats):
    """kgan: median seconds per EM iteration, from whole fits, and the `max_iter` model.

    (median time of a `max_iter` fit - median time of a 1-iteration fit) / (max_iter - 1), after
    one warm-up of each (tracing and XLA compilation happen once per data shape).
    """
    timed_fit(make, X, 1)
    timed_fit(make, X, max_iter)
    short, long, model = [], [], None
    for _ in range(repeats):
        short.append(timed_fit(make, X, 1)[0])
        seconds, model = timed_fit(make, X, max_iter)
        long.append(seconds)
    seconds = (statistics.median(long) - statistics.median(short)) / (max_iter - 1)
    return seconds, model, {"one_iteration_s": short, "max_iter_s": long}


def sklearn_per_iteration(make, X, max_iter, repeats):
    """scikit-learn: median of its own per-iteration times (`verbose=2`, `verbose_interval=1`
    time every E-step + M-step), over all iterations of `repeats` fits; and the last model."""
    lapses, model = [], None
    for _ in range(repeats):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            seconds, model = timed_fit(make, X, max_iter)
        lapses += [float(t) for t in re.findall(r"time lapse ([0-9.]+)s\t ll", printed.getvalue())]
    return statistics.median(lapses), model, {"iteration_s": lapses}


def compare(n, d, k, covariance_type, args):
    spec = mixture_spec(d, k)
    X = sample_batch(spec, n, seed=2)
    start = initial_parameters(X, k, covariance_type)
    common = dict(covariance_type=covariance_type, tol=0.0, **start)

    def kgan_model(max_iter):
        return GaussianMixture(k, max_iter=max_iter, **common)

    def sklearn_model(max_iter):
        return SklearnGaussianMixture(k, max_iter=max_iter, verbose=2, verbose_interval=1, **common)

    label = f"{covariance_type} (n={n:,}, d={d}, k={k})"
    log(f"{label}: kgan ...")
    kgan_s, kgan_fit, kgan_raw = per_iteration(kgan_model, X, args.max_iter, args.repeats)
    log(f"{label}: kgan {kgan_s:.4f} s/iteration; scikit-learn ...")
    sk_repeats = args.repeats if n * d * d * k <= 2e9 else 1  # its median is over iterations
    sk_s, sk_fit, sk_raw = sklearn_per_iteration(sklearn_model, X, args.max_iter, sk_repeats)
    kgan_ll, sk_ll = kgan_fit.score(X), sk_fit.score(X)
    log(f"{label}: scikit-learn {sk_s:.4f} s/iteration; ratio {sk_s / kgan_s:.2f}")
    return {
        "covariance_type": covariance_type,
        "n": n,
        "d": d,
        "k": k,
        "kgan_s_per_iteration": kgan_s,
        "sklearn_s_per_iteration": sk_s,
        "speedup": sk_s / kgan_s,
        "kgan_mean_log_likelihood": kgan_ll,
        "sklearn_mean_log_likelihood": sk_ll,
        "log_likelihood_relative_difference": abs(kgan_ll - sk_ll) / abs(sk_ll),
        "raw_seconds": {"kgan": kgan_raw, "sklearn": sk_raw},
    }


def compare_xla(args):
    """kgan's seconds per iteration with and without XLA on the middle shape, full."""
    n, d, k = QUICK_SHAPES[-1] if args.quick else FULL_SHAPES[1]
    X = sample_batch(mixture_spec(d, k), n, seed=2)
    start = initial_parameters(X, k, "full")
    results = {}
    for jit in (False, True):
        _graph.JIT_COMPILE = jit

        def make(max_iter):
            return GaussianMixture(k, max_iter=max_iter, tol=0.0, **start)

        results[f"jit_compile={jit}"] = per_iteration(make, X, args.max_iter, args.repeats)[0]
        log(f"XLA {jit}: {results[f'jit_compile={jit}']:.4f} s/iteration")
    _graph.JIT_COMPILE = "auto"
    return {"n": n, "d": d, "k": k, **results}


def streamed_child(n, d, k, max_iter):
    """Runs in a child process: a streamed fit of n generated samples; prints JSON."""
    baseline = peak_rss_mib()
    spec = mixture_spec(d, k)
    num_batches = -(-n // STREAM_BATCH)

    def batches():
        for i in range(num_batches):
            yield sample_batch(spec, min(STREAM_BATCH, n - i * STREAM_BATCH), seed=100 + i)

    dataset = tf.data.Dataset.from_generator(
        batches, output_signature=tf.TensorSpec([None, d], tf.float64)
    )
    first = next(iter(batches()))
    model = GaussianMixture(k, tol=0.0, max_iter=max_iter, **initial_parameters(first, k, "full"))
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(dataset)
    seconds = time.perf_counter() - started
    peak = peak_rss_mib()
    print(
        json.dumps(
            {
                "n": n,
                "d": d,
                "k": k,
                "batch": STREAM_BATCH,
                "max_iter": max_iter,
                "rss_after_imports_mib": baseline,
                "peak_rss_mib": peak,
                "s_per_iteration_with_first_pass_compile": seconds / max_iter,
                "lower_bound": model.lower_bound_,
            }
        )
    )


def streamed(args):
    n, d, k = (100_000, 16, 10) if args.quick else (1_000_000, 16, 10)
    command = [sys.executable, __file__, "--streamed-child", f"{n},{d},{k}"]
    command += ["--max-iter", str(args.max_iter)]
    log(f"streamed fit of {n:,} samples in a child process ...")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    log(f"streamed: peak RSS {result['peak_rss_mib']:.0f} MiB")
    return result


# One fresh process per row of the end-to-end comparison: default arguments (full covariance,
# k-means initialization, tol 1e-3, max_iter 100), `fit` timed from call to return.
END_TO_END_CHILD = r"""
import json, os, sys, time, warnings
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
library, n, d, k = sys.argv[1], *map(int, sys.argv[2:5])
sys.path.insert(0, os.path.dirname(sys.argv[5]))
started = time.perf_counter()
import numpy as np
if library == "kgan":
    from kgan.mixture import GaussianMixture
else:
    from sklearn.mixture import GaussianMixture
imported = time.perf_counter() - started
from gmm_em_data import mixture_spec, sample_batch
X = sample_batch(mixture_spec(d, k), n, 0)
row = {"library": library, "n": n, "d": d, "k": k, "import_s": imported}
for name, seed in (("first", 0), ("second", 1)):
    started = time.perf_counter()
    model = GaussianMixture(k, random_state=seed).fit(X)
    row[name + "_fit_s"] = time.perf_counter() - started
    row[name + "_n_iter"] = int(model.n_iter_)
    row[name + "_mean_log_likelihood"] = float(model.score(X))
print("ROW", json.dumps(row))
"""

# In one fresh process at (n, d, k): the float32 matrix-product rate of this machine (a 2048^3
# tf.matmul, median of 7) and the warm seconds per full-covariance EM iteration (tol 0, as
# `per_iteration`), beside the iteration's floating-point work.
FLOOR_CHILD = r"""
import json, os, statistics, sys, time, warnings
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
n, d, k, max_iter, repeats = map(int, sys.argv[1:6])
sys.path.insert(0, os.path.dirname(sys.argv[6]))
import numpy as np
import tensorflow as tf
from kgan.mixture import GaussianMixture
from gmm_em_data import mixture_spec, sample_batch
a = tf.random.normal([2048, 2048])
tf.matmul(a, a).numpy()
times = []
for _ in range(7):
    started = time.perf_counter()
    tf.matmul(a, a).numpy()
    times.append(time.perf_counter() - started)
rate = 2 * 2048**3 / statistics.median(times)
X = sample_batch(mixture_spec(d, k), n, 0).astype("float32")
rng = np.random.default_rng(1)
start = dict(weights_init=np.full(k, 1 / k), means_init=X[rng.choice(n, k, replace=False)],
             precisions_init=np.repeat(np.eye(d)[None] / X.var(axis=0).mean(), k, axis=0))
def fit(iterations):
    model = GaussianMixture(k, tol=0.0, max_iter=iterations, **start)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    return time.perf_counter() - started
fit(max_iter); fit(1)  # warm: traced and compiled for this shape
short = [fit(1) for _ in range(repeats)]
long = [fit(max_iter) for _ in range(repeats)]
iteration = (statistics.median(long) - statistics.median(short)) / (max_iter - 1)
# Per iteration: the whitening x U_k and the scatter sum r (x - mu_k)(x - mu_k)^T, each
# 2 n k d^2 flops, and the element-wise work on the [n, k, d] arrays (about 6 n k d: offsets,
# squares, sums, weights) and on [n, k] (log-sum-exp, exp: about 10 n k).
flops = 4 * n * k * d * d + 6 * n * k * d + 10 * n * k
print("ROW", json.dumps({"n": n, "d": d, "k": k, "matmul_gflops": rate / 1e9,
    "iteration_flops": flops, "floor_s": flops / rate, "iteration_s": iteration,
    "iteration_over_floor": iteration * rate / flops, "one_iteration_fits_s": short,
    "max_iter_fits_s": long, "max_iter": max_iter}))
"""


def _child_row(code, *argv):
    output = subprocess.run(
        [sys.executable, "-c", code, *map(str, argv), __file__],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(next(x for x in output.splitlines() if x.startswith("ROW"))[4:])


def end_to_end(args):
    """Cold and warm `fit` with default arguments, each library in fresh processes, alternating
    (`--repeats` pairs per shape); medians; and the warm iteration against the matmul floor."""
    shapes = [(20_000, 8, 5)] if args.quick else [(100_000, 16, 10), (200_000, 32, 20)]
    rows = []
    for n, d, k in shapes:
        runs = {"kgan": [], "sklearn": []}
        for _ in range(args.repeats):
            for library in ("kgan", "sklearn"):
                log(f"end to end: {library} at ({n}, {d}, {k}) in a fresh process ...")
                runs[library].append(_child_row(END_TO_END_CHILD, library, n, d, k))
        median = {
            library: {
                key: statistics.median(r[key] for r in measured)
                for key in ("first_fit_s", "second_fit_s", "import_s")
            }
            for library, measured in runs.items()
        }
        kgan_ll = runs["kgan"][0]["first_mean_log_likelihood"]
        sklearn_ll = runs["sklearn"][0]["first_mean_log_likelihood"]
        rows.append(
            {
                "shape": [n, d, k],
                "runs": runs,
                "median": median,
                "cold_speedup": median["sklearn"]["first_fit_s"] / median["kgan"]["first_fit_s"],
                "warm_speedup": median["sklearn"]["first_fit_s"] / median["kgan"]["second_fit_s"],
                "log_likelihood_relative_difference": abs(kgan_ll - sklearn_ll) / abs(sklearn_ll),
            }
        )
    n, d, k = shapes[-1]
    log(f"matrix-product floor at ({n}, {d}, {k}) ...")
    floor = _child_row(FLOOR_CHILD, n, d, k, args.max_iter, args.repeats)
    return {"rows": rows, "floor": floor}


def end_to_end_table(result):
    lines = [
        "| (n, d, k), full, defaults | kgan first fit | kgan second fit | scikit-learn | "
        "sklearn / kgan cold | log-likelihood rel. diff |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        m = row["median"]
        lines.append(
            f"| {tuple(row['shape'])} | {m['kgan']['first_fit_s']:.2f} s | "
            f"{m['kgan']['second_fit_s']:.2f} s | {m['sklearn']['first_fit_s']:.2f} s | "
            f"{row['cold_speedup']:.2f}x | {row['log_likelihood_relative_difference']:.1e} |"
        )
    f = result["floor"]
    lines.append(
        f"\nwarm full-covariance EM iteration at ({f['n']}, {f['d']}, {f['k']}): "
        f"{f['iteration_s'] * 1e3:.1f} ms; floor {f['floor_s'] * 1e3:.1f} ms "
        f"({f['iteration_flops'] / 1e9:.2f} GFLOP at the {f['matmul_gflops']:.0f} GFLOP/s of a "
        f"2048^3 matmul); {f['iteration_over_floor']:.2f}x the floor"
    )
    return "\n".join(lines)


def table(results):
    rows = [("figure", "kgan", "sklearn", "ratio")]
    for r in results["comparisons"]:
        shape = f"{r['covariance_type']} n={r['n']:,} d={r['d']} k={r['k']}"
        rows.append(
            (
                f"s/iteration, {shape}",
                f"{r['kgan_s_per_iteration']:.4f}",
                f"{r['sklearn_s_per_iteration']:.4f}",
                f"{r['speedup']:.2f}x",
            )
        )
        rows.append(
            (
                f"mean log-lik, {shape}",
                f"{r['kgan_mean_log_likelihood']:.6f}",
                f"{r['sklearn_mean_log_likelihood']:.6f}",
                f"rel diff {r['log_likelihood_relative_difference']:.1e}",
            )
        )
    if "streamed" in results:
        s = results["streamed"]
        rows.append(
            (
                f"peak RSS MiB, streamed fit n={s['n']:,} d={s['d']} k={s['k']}",
                f"{s['peak_rss_mib']:.0f}",
                "-",
                f"(after imports {s['rss_after_imports_mib']:.0f})",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    text = "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows)
    if "xla" in results:
        x = results["xla"]
        on, off = x["jit_compile=True"], x["jit_compile=False"]
        text += (
            f"\nkgan with / without XLA, full n={x['n']:,} d={x['d']} k={x['k']}: "
            f"{on:.4f} / {off:.4f} s/iteration ({off / on:.2f}x)"
        )
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, one repeat")
    parser.add_argument("--max-iter", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None)
    parser.add_argument("--compare-xla", action="store_true")
    parser.add_argument("--skip-streamed", action="store_true")
    parser.add_argument(
        "--end-to-end",
        action="store_true",
        help="only the cold/warm default-argument fits in fresh processes and the floor",
    )
    parser.add_argument("--streamed-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.streamed_child:
        streamed_child(*map(int, args.streamed_child.split(",")), args.max_iter)
        return
    if args.quick:
        args.repeats = 1
    out = args.out or os.path.join(
        os.path.dirname(__file__), "results", "gmm_em_quick.json" if args.quick else "gmm_em.json"
    )
    results = {
        "command": shlex.join([os.path.basename(sys.executable)] + sys.argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "settings": {"max_iter": args.max_iter, "repeats": args.repeats, "tol": 0.0},
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "versions": {
            "tensorflow": tf.__version__,
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
        },
        "comparisons": [],
    }
    if args.end_to_end:
        out = args.out or os.path.join(os.path.dirname(__file__), "results", "gmm_cold.json")
        results["end_to_end"] = end_to_end(args)
        text = end_to_end_table(results["end_to_end"])
        log("\n" + text)
        results["table"] = text.splitlines()
        results["machine"]["load_average_at_end"] = os.getloadavg()
        atomic.atomic_write_json(out, results)
        log(f"\nwrote {out}")
        return
    for n, d, k in QUICK_SHAPES if args.quick else FULL_SHAPES:
        for covariance_type in ("full", "diag"):
            results["comparisons"].append(compare(n, d, k, covariance_type, args))
    if not args.skip_streamed:
        results["streamed"] = streamed(args)
    if args.compare_xla:
        results["xla"] = compare_xla(args)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    text = table(results)
    log("\n" + text)
    results["table"] = text.splitlines()
    atomic.atomic_write_json(out, results)
    log(f"\nwrote {out}")


if __name__ == "__main__":
    main()
