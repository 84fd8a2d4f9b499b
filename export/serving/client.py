"""Asks a TF Serving server for generated images and saves them as a PNG grid.

Standard library only (urllib, zlib): copy this file anywhere that can reach the server.

    python client.py --labels 0-9 --per-label 8 --out grid.png
    python client.py --url http://serving-host:8501 --model cgan_mnist --request request.json

It posts `{"signature_name": "generate", "instances": [{"z": [...], "labels": k}, ...]}` to
`<url>/v1/models/<model>:predict` and tiles the returned images (values in [-1, 1]).
"""

import argparse
import json
import os
import random
import struct
import sys
import tempfile
import urllib.error
import urllib.request
import zlib


def parse_labels(text):
    labels = []
    for part in text.split(","):
        if "-" in part.strip()[1:]:
            low, high = part.split("-", 1)
            labels.extend(range(int(low), int(high) + 1))
        else:
            labels.append(int(part))
    return labels


def make_request(labels, per_label, latent_dim, seed):
    rng = random.Random(seed)
    instances = []
    for label in labels:
        for _ in range(per_label):
            z = [round(rng.gauss(0.0, 1.0), 5) for _ in range(latent_dim)]
            instances.append({"z": z, "labels": label})
    return {"signature_name": "generate", "instances": instances}


def predict(url, model, request, timeout):
    endpoint = f"{url.rstrip('/')}/v1/models/{model}:predict"
    body = json.dumps(request).encode("utf-8")
    call = urllib.request.Request(
        endpoint, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")
        sys.exit(f"{endpoint} answered {error.code}: {detail}")
    except urllib.error.URLError as error:
        sys.exit(f"cannot reach {endpoint} ({error.reason}); is the server running?")
    predictions = answer["predictions"]
    # One named output comes back bare; several come back as dicts.
    return [p["images"] if isinstance(p, dict) else p for p in predictions]


def to_gray_or_rgb(image):
    """[h][w][c] floats in [-1, 1] -> rows of bytes and the channel count (1 or 3)."""
    channels = len(image[0][0])
    rows = []
    for row in image:
        line = bytearray()
        for pixel in row:
            for value in pixel[: 3 if channels >= 3 else 1]:
                line.append(max(0, min(255, round((value + 1.0) * 127.5))))
        rows.append(bytes(line))
    return rows, (3 if channels >= 3 else 1)


def write_png(path, images, columns, scale=2):
    tiles = [to_gray_or_rgb(image) for image in images]
    channels = tiles[0][1]
    height, width = len(tiles[0][0]), len(tiles[0][0][0]) // channels
    grid_rows = -(-len(tiles) // columns)
    pad = 2
    full_w = columns * (width + pad) + pad
    full_h = grid_rows * (height + pad) + pad
    canvas = [bytearray(full_w * channels) for _ in range(full_h)]
    for i, (rows, _) in enumerate(tiles):
        top = pad + (i // columns) * (height + pad)
        left = (pad + (i % columns) * (width + pad)) * channels
        for y, line in enumerate(rows):
            canvas[top + y][left : left + len(line)] = line
    raw = bytearray()
    for line in canvas:
        wide = bytearray()
        for x in range(full_w):
            wide += bytes(line[x * channels : (x + 1) * channels]) * scale
        for _ in range(scale):
            raw += b"\x00" + wide

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    color = 0 if channels == 1 else 2
    header = struct.pack(">IIBBBBB", full_w * scale, full_h * scale, 8, color, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    png += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=folder)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(png)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:8501", help="the server's REST root")
    parser.add_argument("--model", default="cgan_mnist", help="the model's name in models.config")
    parser.add_argument("--labels", type=parse_labels, default=list(range(10)), help="e.g. 0-9")
    parser.add_argument("--per-label", type=int, default=8, help="images per label (8)")
    parser.add_argument("--latent-dim", type=int, default=64, help="the generator's z size (64)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latents")
    parser.add_argument("--request", help="post this JSON request instead (e.g. request.json)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")
    parser.add_argument("--out", default="grid.png", help="the PNG to write")
    args = parser.parse_args(argv)
    if args.request:
        with open(args.request) as f:
            request = json.load(f)
        columns = len(request["instances"])
    else:
        request = make_request(args.labels, args.per_label, args.latent_dim, args.seed)
        columns = args.per_label
    images = predict(args.url, args.model, request, args.timeout)
    shape = (len(images), len(images[0]), len(images[0][0]), len(images[0][0][0]))
    write_png(args.out, images, columns)
    print(f"got images of shape {list(shape)}; wrote {args.out}")


if __name__ == "__main__":
    main()
