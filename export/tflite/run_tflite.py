"""Runs an exported generator (`.tflite`) with the LiteRT interpreter and writes a PNG grid.

Needs only `ai-edge-litert` and numpy (and Pillow to write the PNG):

    python run_tflite.py model.tflite --labels 0-9 --per-label 8 --seed 0 --out grid.png

Latents are drawn as kgan's `generate` draws them (`numpy.random.default_rng(seed)
.standard_normal`), so the same seed gives the same images as the Keras model.
"""

import argparse
import json
import os
import tempfile

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter


def read_kgan_metadata(content):
    """The description kgan embeds in its exports (latent size, classes), or {}."""
    model = schema.Model.GetRootAs(content, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name() == b"kgan":
            return json.loads(bytes(model.Buffers(entry.Buffer()).DataAsNumpy()).decode())
    return {}


def parse_labels(text):
    labels = []
    for part in text.split(","):
        if "-" in part.strip()[1:]:
            low, high = part.split("-", 1)
            labels.extend(range(int(low), int(high) + 1))
        else:
            labels.append(int(part))
    return labels


def save_grid(images, path, columns, scale=2):
    from PIL import Image

    images = np.clip((np.asarray(images) + 1.0) * 127.5, 0, 255).astype(np.uint8)
    n, h, w, c = images.shape
    rows = -(-n // columns)
    pad = 2
    grid = np.zeros((rows * (h + pad) + pad, columns * (w + pad) + pad, c), np.uint8)
    for i, image in enumerate(images):
        top, left = pad + (i // columns) * (h + pad), pad + (i % columns) * (w + pad)
        grid[top : top + h, left : left + w] = image
    grid = grid.repeat(scale, 0).repeat(scale, 1)
    picture = Image.fromarray(grid[..., 0] if c == 1 else grid[..., :3])
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=folder)
    os.close(handle)
    try:
        picture.save(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="the .tflite file (kgan export ... --format tflite)")
    parser.add_argument("--labels", type=parse_labels, help="classes, e.g. 0-9 (conditional)")
    parser.add_argument("--per-label", type=int, default=8, help="images per label (8)")
    parser.add_argument("--num", type=int, default=64, help="images of an unconditional model")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latents")
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        help="interpreter threads (default: the CPUs this process may use)",
    )
    parser.add_argument("--out", default="grid.png", help="the PNG to write")
    args = parser.parse_args(argv)
    with open(args.model, "rb") as f:
        content = f.read()
    metadata = read_kgan_metadata(content)
    interpreter = Interpreter(model_content=content, num_threads=args.threads)
    generate = interpreter.get_signature_runner("generate")
    inputs = generate.get_input_details()
    latent_dim = int(inputs["z"]["shape_signature"][-1])
    feed = {}
    if "labels" in inputs:
        labels = args.labels
        if labels is None:
            labels = list(range(metadata.get("num_classes") or 10))
        feed["labels"] = np.repeat(np.asarray(labels, np.int32), args.per_label)
        num, columns = len(feed["labels"]), args.per_label
    else:
        num, columns = args.num, int(np.ceil(np.sqrt(args.num)))
    feed["z"] = np.random.default_rng(args.seed).standard_normal((num, latent_dim))
    feed["z"] = feed["z"].astype(np.float32)
    images = next(iter(generate(**feed).values()))
    if images.ndim != 4:
        raise SystemExit(f"the model makes samples of shape {images.shape[1:]}, not images")
    save_grid(images, args.out, columns)
    print(f"generated {list(images.shape)} with {args.model}; wrote {args.out}")


if __name__ == "__main__":
    main()
