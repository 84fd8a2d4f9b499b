"""Benchmark: streaming image folders and TFRecord packs, beside Keras's folder reader.

Builds flat folders of generated 64x64x3 PNGs (20,000 and 200,000 by default: smooth random
colour fields with noise, about 9 KB each) and their TFRecord packs (`kgan.data.pack_folder`),
then reads each source in a fresh process per run with batches of 64:

- `kgan folder`: `kgan.data.load(FOLDER, batch_size=64, seed=0)` (default `cache="auto"`,
  which streams both sizes: 20,000 images are 983 MB as float32, over the 256 MiB budget);
- `kgan pack`: `kgan.data.load(PACK, batch_size=64, seed=0)`;
- `keras folder`: `keras.utils.image_dataset_from_directory(FOLDER, labels=None,
  batch_size=64, image_size=(64, 64), seed=0)`.

Each run reports the seconds from the call to the first batch (file listing and pipeline
construction included; TensorFlow, Keras and kgan are imported before the clock starts), the
images/s of the rest of that first pass and of the two full passes after it (the pipeline
alone, the batches pulled and dropped; kgan's folder stream checks each file in its first
pass only, so that it can name a bad one), and
the peak resident memory of the process (VmHWM; the libraries' imports are part of it for
every loader alike). Loaders take turns and the table gives
medians of `--repeats` runs. The files are in the page cache (the machine has 24 GiB), so this
measures decoding and the pipeline, not the disk.

The trainer's consumption is the images/s of the 64x64 DCGAN (`kgan.models.build_trainer(
"gan", (64, 64, 3))`, default width, XLA) training on batches of 64 held in memory; the
pipeline should feed it with room to spare.

Usage (about 25 minutes on 2 CPU cores; the folders take 2.4 GB of disk at 200,000):
    python benchmarks/data_pipeline.py [--sizes 20000 200000] [--repeats 3]
        [--root /tmp/kgan-data-bench] [--out benchmarks/results/data_pipeline.json]

`--cpu-per-image FOLDER [--passes 8]` instead reads one folder in one process with Keras's
reader, kgan's stream (its passes after the first, which checked the files) and kgan's stream
made to check every file in every pass, their passes interleaved after one pass of each, and
prints each reader's median images/s and CPU time per image (user + system of the process):
where a reader's time goes, less exposed than wall time to another tenant taking a core.
"""

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

from process_memory import peak_rss_mib

BATCH_SIZE = 64
SIDE = 64
LOADERS = ("kgan folder", "kgan pack", "keras folder")
# The kgan command of this Python environment.
KGAN = os.path.join(os.path.dirname(sys.executable), "kgan")


def log(message):
    print(message, flush=True)


def _write_images(task):
    import numpy as np
    from PIL import Image

    folder, start, stop = task
    for i in range(start, stop):
        path = os.path.join(folder, f"{i:07d}.png")
        if os.path.exists(path):
            continue
        rng = np.random.default_rng(i)
        coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        image = np.asarray(Image.fromarray(coarse).resize((SIDE, SIDE), Image.BILINEAR), np.int16)
        image = np.clip(image + rng.integers(-12, 13, image.shape), 0, 255).astype(np.uint8)
        Image.fromarray(image).save(path + ".tmp", format="PNG")
        os.replace(path + ".tmp", path)


def build_folder(root, size):
    folder = os.path.join(root, f"png_{size}")
    os.makedirs(folder, exist_ok=True)
    if len(os.listdir(folder)) != size:
        started = time.perf_counter()
        chunks = [(folder, i, min(i + 2000, size)) for i in range(0, size, 2000)]
        with multiprocessing.Pool(os.cpu_count()) as pool:
            pool.map(_write_images, chunks)
        log(f"wrote {size} PNGs to {folder} in {time.perf_counter() - started:.0f} s")
    return folder


def build_pack(root, folder, size):
    pack = os.path.join(root, f"pack_{size}")
    if not os.path.exists(pack):
        started = time.perf_counter()
        subprocess.run(
            [KGAN, "data", "pack", folder, "--out", pack, "--quiet"],
            check=True,
        )
        log(f"packed {folder} in {time.perf_counter() - started:.0f} s")
    return pack


def child(loader, source, passes):
    """Runs in a fresh process: reads the source, prints one JSON line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    import kgan  # the libraries are imported before the clock starts, for every loader alike

    started = time.perf_counter()
    if loader == "keras folder":
        ds = keras.utils.image_dataset_from_directory(
            source,
            labels=None,
            batch_size=BATCH_SIZE,
            image_size=(SIDE, SIDE),
            seed=0,
            verbose=False,
        )
    else:
        ds = kgan.data.load(source, batch_size=BATCH_SIZE, seed=0)
    iterator = iter(ds)
    first = next(iterator)
    first_batch = time.perf_counter() - started
    assert tuple(first.shape) == (BATCH_SIZE, SIDE, SIDE, 3), first.shape
    rest, started = 0, time.perf_counter()
    for batch in iterator:  # the rest of the first pass
        rest += int(tf.shape(batch)[0])
    first_pass = rest / (time.perf_counter() - started)
    started, images = time.perf_counter(), 0
    for _ in range(passes):
        for batch in ds:
            images += int(tf.shape(batch)[0])
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "first_batch_s": first_batch,
                "first_pass_images_per_s": first_pass,
                "images_per_s": images / seconds,
                "images": images,
                "peak_rss_mib": peak_rss_mib(),
            }
        ),
        flush=True,
    )


def cpu_per_image(folder, passes):
    """Median images/s and CPU microseconds per image of three readers of `folder`, their
    passes interleaved in this process (see the module docstring)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import resource

    import keras

    import kgan
    import kgan.data.loading as loading

    def always_checked(path, shape, image_size, checked=True):
        return checked_decode(path, shape, image_size)

    def cpu_s():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    checked_decode = loading.decode_file
    readers = {
        "keras folder": keras.utils.image_dataset_from_directory(
            folder, labels=None, batch_size=BATCH_SIZE, image_size=(SIDE, SIDE), seed=0,
            verbose=False,
        ),
        "kgan folder": kgan.data.load(folder, batch_size=BATCH_SIZE, seed=0, cache=False),
    }  # fmt: skip
    loading.decode_file = always_checked  # traced when the pipeline is built, below
    try:
        readers["kgan folder, every pass checked"] = kgan.data.load(
            folder, batch_size=BATCH_SIZE, seed=0, cache=False
        )
    finally:
        loading.decode_file = checked_decode
    for ds in readers.values():
        for _ in ds:  # a first pass: tracing, autotuning
            pass
    rates, cpu = {name: [] for name in readers}, {name: [] for name in readers}
    for _ in range(passes):
        for name, ds in readers.items():
            started, used, images = time.perf_counter(), cpu_s(), 0
            for batch in ds:
                images += int(batch.shape[0])
            rates[name].append(images / (time.perf_counter() - started))
            cpu[name].append((cpu_s() - used) / images * 1e6)
    for name in readers:
        log(
            f"{name:24s} {statistics.median(rates[name]):7,.0f} images/s (median of {passes}), "
            f"{statistics.median(cpu[name]):5.0f} us CPU/image; passes "
            f"{[round(r) for r in rates[name]]}"
        )


def trainer_rate(steps=10):
    """Images/s of the 64x64 DCGAN training on in-memory batches (XLA, after warm-up)."""
    code = f"""
import os, time, json
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np, tensorflow as tf, kgan
model = kgan.models.build_trainer("gan", ({SIDE}, {SIDE}, 3), seed=0)
model.compile()
x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (512, {SIDE}, {SIDE}, 3)), tf.float32)
ds = tf.data.Dataset.from_tensor_slices(x).batch({BATCH_SIZE}).repeat()
model.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)
started = time.perf_counter()
model.fit(ds, steps_per_epoch={steps}, epochs=1, verbose=0)
print(json.dumps({{"images_per_s": {steps} * {BATCH_SIZE} / (time.perf_counter() - started)}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["images_per_s"]


def run_child(loader, source, passes):
    out = subprocess.run(
        [sys.executable, __file__, "--child", loader, source, str(passes)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{loader} on {source} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--root", default="/tmp/kgan-data-bench")
    parser.add_argument("--out", default="benchmarks/results/data_pipeline.json")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--cpu-per-image", metavar="FOLDER")
    args = parser.parse_args()
    if args.cpu_per_image:
        if not os.path.isdir(args.cpu_per_image):
            parser.error(f"--cpu-per-image: {args.cpu_per_image!r} is not a folder")
        return cpu_per_image(args.cpu_per_image, args.passes)
    if args.child:
        return child(args.child[0], args.child[1], int(args.child[2]))
    sources = {}
    for size in args.sizes:
        folder = build_folder(args.root, size)
        sources[size] = {"folder": folder, "pack": build_pack(args.root, folder, size)}
    consumption = trainer_rate()
    log(f"64x64 DCGAN trains at {consumption:.0f} images/s")
    runs = {size: {loader: [] for loader in LOADERS} for size in args.sizes}
    for repeat in range(args.repeats):
        for size in args.sizes:
            for loader in LOADERS:
                source = sources[size]["pack" if loader == "kgan pack" else "folder"]
                result = run_child(loader, source, args.passes)
                runs[size][loader].append(result)
                log(
                    f"[{repeat + 1}/{args.repeats}] {size:>7d} {loader:13s} first batch "
                    f"{result['first_batch_s']:.2f} s, first pass "
                    f"{result['first_pass_images_per_s']:.0f} images/s, then "
                    f"{result['images_per_s']:.0f} images/s, "
                    f"peak RSS {result['peak_rss_mib']:.0f} MiB"
                )
    table = {}
    for size in args.sizes:
        table[size] = {
            loader: {
                key: statistics.median(r[key] for r in runs[size][loader])
                for key in (
                    "first_batch_s",
                    "first_pass_images_per_s",
                    "images_per_s",
                    "peak_rss_mib",
                )
            }
            for loader in LOADERS
        }
    small, large = min(args.sizes), max(args.sizes)
    checks = {}
    for size in args.sizes:
        kgan_row, keras_row = table[size]["kgan folder"], table[size]["keras folder"]
        pack_row = table[size]["kgan pack"]
        checks[f"{size}: first batch within 2x of Keras's"] = (
            kgan_row["first_batch_s"] <= 2 * keras_row["first_batch_s"]
        )
        checks[f"{size}: folder throughput >= Keras's"] = (
            kgan_row["images_per_s"] >= keras_row["images_per_s"]
        )
        checks[f"{size}: folder throughput >= 5x the trainer's"] = (
            kgan_row["images_per_s"] >= 5 * consumption
        )
        checks[f"{size}: pack >= 2x the folder rate"] = (
            pack_row["images_per_s"] >= 2 * kgan_row["images_per_s"]
        )
    if large != small:
        big = table[large]["kgan folder"]["peak_rss_mib"]
        checks[f"{large}: peak RSS within 1.3x of Keras's"] = (
            big <= 1.3 * table[large]["keras folder"]["peak_rss_mib"]
        )
        checks[f"{large}: peak RSS within 1.3x of kgan's at {small}"] = (
            big <= 1.3 * table[small]["kgan folder"]["peak_rss_mib"]
        )
    log("")
    log("| images | loader | first batch (s) | first pass (images/s) | images/s | peak RSS (MiB) |")
    log("| ---: | --- | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        for loader in LOADERS:
            row = table[size][loader]
            log(
                f"| {size:,} | {loader} | {row['first_batch_s']:.2f} | "
                f"{row['first_pass_images_per_s']:,.0f} | {row['images_per_s']:,.0f} | "
                f"{row['peak_rss_mib']:,.0f} |"
            )
    log(f"\n64x64 DCGAN consumption: {consumption:,.0f} images/s")
    for name, ok in checks.items():
        log(f"{'PASS' if ok else 'FAIL'}  {name}")
    result = {
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "batch_size": BATCH_SIZE,
        "passes": args.passes,
        "repeats": args.repeats,
        "trainer_images_per_s": consumption,
        "table": table,
        "runs": runs,
        "checks": checks,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=2)
    os.replace(args.out + ".tmp", args.out)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
