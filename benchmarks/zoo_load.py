"""Time to a first sample from a preset, and the model card's metrics reproduced.

Serves the repository's `zoo/` folder from a loopback HTTP server, then in fresh Python
processes with an empty `$KGAN_HOME`: (1) `kgan.zoo.load(name)` + `generate` (download,
checksums, build), (2) the same again (cache hit), and (3) `kgan evaluate` with the command on
the preset's model card, compared with the card's figures.

    python benchmarks/zoo_load.py --preset cgan_mnist
"""

import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")

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


def timed_load(name, env):
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(name=name)],
        env=env,
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


def evaluate(name, metadata, env, home):
    command = metadata["metrics"].get("command", "")
    if not command.startswith("kgan evaluate"):
        return None
    out_file = os.path.join(home, "metrics.json")
    argv = [os.path.join(os.path.dirname(sys.executable), "kgan"), *command.split()[1:]]
    start = time.perf_counter()
    subprocess.run([*argv, "--out", out_file], env=env, check=True, capture_output=True)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", nargs="+", default=["cgan_mnist"])
    parser.add_argument("--no-evaluate", action="store_true")
    parser.add_argument("--out", default=os.path.join(RESULTS, "zoo_load.json"))
    args = parser.parse_args(argv)
    server, url = serve(os.path.join(ROOT, "zoo"))
    report = {
        "setup": {
            "command": "python benchmarks/zoo_load.py " + " ".join(sys.argv[1:]),
            "cpu_threads": os.cpu_count(),
            "mirror": "loopback http.server serving zoo/",
            "target_s": 10.0,
        },
        "results": {},
    }
    with open(os.path.join(ROOT, "zoo", "index.json")) as f:
        index = json.load(f)["presets"]
    for name in args.preset:
        home = tempfile.mkdtemp(prefix="kgan-home-")
        try:
            env = child_env(home, url)
            QuietHandler.requests.clear()
            first = timed_load(name, env)
            first["requests"] = len(QuietHandler.requests)
            QuietHandler.requests.clear()
            second = timed_load(name, env)
            second["requests"] = len(QuietHandler.requests)
            result = {"fresh_cache": first, "cache_hit": second}
            if not args.no_evaluate:
                result["metrics"] = evaluate(name, index[name], env, home)
            report["results"][name] = result
        finally:
            shutil.rmtree(home, ignore_errors=True)
        f, s = result["fresh_cache"], result["cache_hit"]
        print(
            f"{name}: fresh cache {f['process_wall_s']:.1f} s in all (import {f['import_s']:.1f}, "
            f"download+check+build {f['load_s']:.2f}, generate 100 {f['generate_100_s']:.2f}; "
            f"{f['requests']} requests); cache hit {s['process_wall_s']:.1f} s "
            f"({s['requests']} requests)"
        )
        if result.get("metrics"):
            m = result["metrics"]
            print(f"  card:       {m['card']}")
            print(f"  reproduced: {m['reproduced']} ({m['seconds']:.0f} s)")
    server.shutdown()
    from kgan.atomic import atomic_write_json

    atomic_write_json(args.out, report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
