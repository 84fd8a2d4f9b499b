"""Time to a first sample from a preset, and the model card's metrics reproduced, from each
source a user meets: a mirror and the Hugging Face Hub.

- `mirror`: the repository's `zoo/` folder served by a loopback HTTP server as `$KGAN_ZOO_URL`,
  kgan run from the checkout;
- `hub`: a release as a `pip install kgan` user gets it: every preset of `zoo/` published with
  `kgan zoo publish --to hf://...` to a loopback emulator of the Hugging Face Hub's API
  (`tests/zoo/hub_emulator.py`), a wheel built with that pinned registry, installed alone in a
  fresh virtual environment, run outside the checkout with `HF_ENDPOINT` at the emulator and no
  `$KGAN_ZOO_URL`.

For each, in fresh Python processes with empty caches: (1) `kgan.zoo.load(name)` + 100 samples
(download, checksums, build), (2) the same again (cache hit), and (3) `kgan evaluate` with the
command on the preset's model card (its `kgan` command), compared with the card's figures. Both
sources are measured in one run, alternating, `--repeats` times; medians are reported.

    python benchmarks/zoo_load.py --preset cgan_mnist
"""

import argparse
import functools
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
sys.path.insert(0, os.path.join(ROOT, "tests", "zoo"))

from hub_emulator import HubEmulator  # noqa: E402
from release import build_release, install_wheel, user_env  # noqa: E402

TOKEN = "hf_benchmark"

CHILD = """
import time
start = time.perf_counter()
import kgan
imported = time.perf_counter()
model = kgan.zoo.load({name!r})
loaded = time.perf_counter()
labels = {{"labels": [i % model.num_classes for i in range(100)]}} if getattr(
    model, "conditional", False) else {{}}
images = model.generate(100, seed=0, **labels)
done = time.perf_counter()
print("TIMES", imported - start, loaded - imported, done - loaded, done - start)
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        QuietHandler.requests.append(self.path)
        super().do_GET()


def serve(folder):
    handler = functools.partial(QuietHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def child_env(home, url):
    env = dict(os.environ, KGAN_HOME=home)
    env.update(KGAN_ZOO_URL=url, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("KGAN_OFFLINE", None)
    return env


def timed_load(name, env, python=sys.executable, cwd=None):
    start = time.perf_counter()
    out = subprocess.run(
        [python, "-c", CHILD.format(name=name)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wall = time.perf_counter() - start
    line = next(x for x in out.splitlines() if x.startswith("TIMES"))
    imported, loaded, generated, inside = (float(v) for v in line.split()[1:])
    return {
        "process_wall_s": wall,
        "import_s": imported,
        "load_s": loaded,
        "generate_100_s": generated,
        "in_process_s": inside,
    }


def evaluate(name, metadata, env, home, python=sys.executable):
    command = metadata["metrics"].get("command", "")
    if not command.startswith("kgan evaluate"):
        return None
    out_file = os.path.join(home, "metrics.json")
    argv = [os.path.join(os.path.dirname(python), "kgan"), *command.split()[1:]]
    start = time.perf_counter()
    subprocess.run([*argv, "--out", out_file], env=env, cwd=home, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    with open(out_file) as f:
        measured = json.load(f)
    card = {k: v for k, v in metadata["metrics"].items() if k != "command"}
    return {
        "command": command,
        "seconds": seconds,
        "card": card,
        "reproduced": {k: measured.get(k) for k in card},
        "max_abs_difference": max(abs(measured[k] - v) for k, v in card.items() if k in measured),
    }


def measure(name, metadata, source, url, hub, python, evaluate_card):
    """Fresh cache, cache hit and (optionally) the card's evaluation from one source."""
    home = tempfile.mkdtemp(prefix="kgan-home-")
    try:
        if source == "mirror":
            env, python, cwd, requests = (
                child_env(home, url),
                sys.executable,
                None,
                QuietHandler.requests,
            )
        else:
            env, cwd, requests = user_env(hub, home), home, hub.requests
        requests.clear()
        first = timed_load(name, env, python, cwd)
        first["requests"] = len(requests)
        requests.clear()
        second = timed_load(name, env, python, cwd)
        second["requests"] = len(requests)
        result = {"fresh_cache": first, "cache_hit": second}
        if evaluate_card:
            result["metrics"] = evaluate(name, metadata, env, home, python)
        return result
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _median(runs, *keys):
    values = []
    for run in runs:
        for key in keys:
            run = run[key]
        values.append(run)
    return float(statistics.median(values))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", nargs="+", default=["cgan_mnist"])
    parser.add_argument(
        "--sources", nargs="+", default=["mirror", "hub"], choices=["mirror", "hub"]
    )
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per source")
    parser.add_argument("--no-evaluate", action="store_true")
    parser.add_argument("--out", default=os.path.join(RESULTS, "zoo_load.json"))
    args = parser.parse_args(argv)
    server, url = serve(os.path.join(ROOT, "zoo"))
    work = tempfile.mkdtemp(prefix="kgan-release-")
    hub = python = None
    if "hub" in args.sources:
        hub = HubEmulator(token=TOKEN)
        _, wheel = build_release(work, hub, "kgan-benchmark", TOKEN)
        python = str(install_wheel(wheel, os.path.join(work, "venv")))
    report = {
        "setup": {
            "command": "python benchmarks/zoo_load.py " + " ".join(sys.argv[1:]),
            "cpu_threads": os.cpu_count(),
            "mirror": "loopback http.server serving zoo/ as KGAN_ZOO_URL, kgan from the checkout",
            "hub": "loopback Hugging Face Hub emulator; the release wheel in a fresh virtual "
            "environment, outside the checkout, no KGAN_ZOO_URL",
            "repeats": args.repeats,
        },
        "results": {},
    }
    with open(os.path.join(ROOT, "zoo", "index.json")) as f:
        index = json.load(f)["presets"]
    try:
        for name in args.preset:
            runs = {source: [] for source in args.sources}
            for repeat in range(args.repeats):
                for source in args.sources:
                    card = not args.no_evaluate and repeat == 0
                    runs[source].append(measure(name, index[name], source, url, hub, python, card))
            rows = report["results"][name] = {}
            for source, measured in runs.items():
                rows[source] = {
                    "runs": measured,
                    "median_fresh_cache_s": _median(measured, "fresh_cache", "process_wall_s"),
                    "median_cache_hit_s": _median(measured, "cache_hit", "process_wall_s"),
                    "median_load_s": _median(measured, "fresh_cache", "load_s"),
                    "metrics": measured[0].get("metrics"),
                }
                r, f = rows[source], measured[0]["fresh_cache"]
                print(
                    f"{name} from the {source}: fresh cache {r['median_fresh_cache_s']:.1f} s "
                    f"in all (median of {len(measured)}; download+check+build "
                    f"{r['median_load_s']:.2f} s, {f['requests']} requests); cache hit "
                    f"{r['median_cache_hit_s']:.1f} s ({measured[0]['cache_hit']['requests']} "
                    "requests)"
                )
                if r["metrics"]:
                    m = r["metrics"]
                    print(f"  card:       {m['card']}")
                    print(f"  reproduced: {m['reproduced']} ({m['seconds']:.0f} s)")
            if {"mirror", "hub"} <= set(rows):
                ratio = rows["hub"]["median_fresh_cache_s"] / rows["mirror"]["median_fresh_cache_s"]
                rows["hub_over_mirror_fresh_cache"] = ratio
                print(f"  hub / mirror, fresh cache to 100 images: {ratio:.2f}x (target <= 1.5x)")
    finally:
        server.shutdown()
        if hub is not None:
            hub.close()
        shutil.rmtree(work, ignore_errors=True)
    from kgan.atomic import atomic_write_json

    atomic_write_json(args.out, report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
