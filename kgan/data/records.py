"""TFRecord packs: an image folder decoded once into sharded TFRecord files with a manifest.

A pack is a folder of `shard-NNNNN-of-MMMMM.tfrecord` files and `manifest.json` (the number of
examples, the image shape, the classes, and each shard's examples, bytes and SHA-256). Each
record holds one image as raw uint8 pixels (`image`) and, for labelled data, its class id
(`label`). `pack_folder` writes the examples in an order shuffled once by its seed and splits
them into shards of equal size; `kgan.data.load(PACK)` reads them back with the pass's shard
order and shuffle buffer seeded by `(seed, epoch)`.
"""

import hashlib
import json
import math
import os

import numpy as np
import tensorflow as tf

from kgan.atomic import atomic_folder, atomic_write_json
from kgan.data.epochs import per_epoch, permutation, plain, seeded_shuffle
from kgan.data.folders import (
    decode_file,
    folder_classes,
    folder_files,
    folder_shape,
    mixed_sizes_error,
    parse_image_size,
    pixels_to_unit,
)

MANIFEST = "manifest.json"
FORMAT = "kgan.tfrecord"
VERSION = 1
# A shard holds about this many bytes of pixels; the shuffle buffer about this many.
SHARD_BYTES = 64 * 2**20
SHUFFLE_BUFFER_BYTES = 64 * 2**20


def is_pack(path):
    """True when `path` is a folder with a pack's manifest."""
    return os.path.isfile(os.path.join(path, MANIFEST))


def read_manifest(path):
    """The manifest of the pack in folder `path`, checked: every shard present with its size.

    Raises:
        ValueError: the manifest is not a kgan pack's, or a shard is missing or of another
            size than the manifest says.
    """
    if not is_pack(path):
        raise ValueError(
            f"{path!r} holds no {MANIFEST}: it is not a pack; write one with `kgan data pack`"
        )
    with open(os.path.join(path, MANIFEST), encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValueError(
            f"{os.path.join(path, MANIFEST)!r} is not a kgan TFRecord pack manifest (format "
            f"{FORMAT!r}, version {VERSION}); write the pack with `kgan data pack`"
        )
    for shard in manifest["shards"]:
        file = os.path.join(path, shard["file"])
        size = os.path.getsize(file) if os.path.isfile(file) else None
        if size != shard["bytes"]:
            raise ValueError(
                f"pack {path!r}: shard {shard['file']!r} is "
                f"{'missing' if size is None else f'{size} bytes'}, the manifest says "
                f"{shard['bytes']} bytes; copy the whole pack again or repack the folder"
            )
    return manifest


def verify_pack(path):
    """Checks every shard of the pack against the SHA-256 in its manifest.

    Returns:
        The names of the shards whose checksum differs (empty when the pack is intact).
    """
    manifest = read_manifest(path)
    return [
        shard["file"]
        for shard in manifest["shards"]
        if _sha256(os.path.join(path, shard["file"])) != shard["sha256"]
    ]


def _sha256(file):
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def pack_folder(folder, out, image_size=None, examples_per_shard=None, seed=0):
    """Decodes an image folder once and writes it as a TFRecord pack.

    The pack is written to a temporary folder beside `out` and renamed when complete, so an
    interrupted run leaves no pack behind.

    Args:
        folder: an image folder (class subfolders or flat), as `kgan.data.load` reads.
        out: the pack's folder; it must not exist.
        image_size: `(height, width)` to resize to; needed when the images differ in size.
        examples_per_shard: examples per shard; default about 64 MiB of pixels per shard.
        seed: the seed of the order the examples are written in.

    Returns:
        The manifest (a dict).

    Example:
        >>> kgan.data.pack_folder("faces", "faces_pack")["num_examples"]
        20000
    """
    if not os.path.isdir(folder):
        raise ValueError(f"{folder!r} is not a folder; pass the folder of images to pack")
    if os.path.exists(out):
        raise FileExistsError(f"{out!r} exists; pass a new folder for the pack")
    image_size = parse_image_size(image_size, "folder")
    files, labels = folder_files(folder)
    shape, sizes = folder_shape(folder, files, image_size)
    if shape[0] is None:
        raise mixed_sizes_error(folder, sizes)
    example_bytes = int(np.prod(shape))
    if examples_per_shard is None:
        examples_per_shard = max(1, SHARD_BYTES // example_bytes)
    if (
        isinstance(examples_per_shard, bool)
        or not isinstance(examples_per_shard, (int, np.integer))
        or examples_per_shard <= 0
    ):
        raise ValueError(f"examples_per_shard must be a positive int; got {examples_per_shard!r}")
    order = np.random.default_rng(seed).permutation(len(files))
    num_shards = math.ceil(len(files) / examples_per_shard)
    with atomic_folder(out, prefix=f".{os.path.basename(os.path.abspath(out))}.partial-") as work:
        shards = _write_shards(work, files, labels, order, num_shards, shape, image_size)
        class_names = None if labels is None else folder_classes(folder)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "num_examples": len(files),
            "shape": list(shape),
            "num_classes": None if labels is None else len(class_names),
            "class_names": class_names,
            "image_size": None if image_size is None else list(image_size),
            "seed": int(seed),
            "source": os.path.abspath(folder),
            "shards": shards,
        }
        atomic_write_json(os.path.join(work, MANIFEST), manifest)
    return manifest


def _write_shards(work, files, labels, order, num_shards, shape, image_size):
    paths = tf.constant(np.asarray(files)[order])
    images = tf.data.Dataset.from_tensor_slices(paths).map(
        plain(lambda path: decode_file(path, shape, image_size)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if image_size is not None:  # resized pixels rounded back to uint8
        images = images.map(
            plain(lambda x: tf.cast(tf.round(tf.clip_by_value(x, 0, 255)), tf.uint8))
        )
    pixels = images.batch(256).prefetch(2).as_numpy_iterator()
    ordered_labels = None if labels is None else labels[order]
    bounds = np.linspace(0, len(files), num_shards + 1).round().astype(int)
    shards, batch, used = [], next(pixels), 0
    for index in range(num_shards):
        name = f"shard-{index:05d}-of-{num_shards:05d}.tfrecord"
        with tf.io.TFRecordWriter(os.path.join(work, name)) as writer:
            for position in range(bounds[index], bounds[index + 1]):
                if used == len(batch):
                    batch, used = next(pixels), 0
                feature = {
                    "image": tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[batch[used].tobytes()])
                    )
                }
                if ordered_labels is not None:
                    feature["label"] = tf.train.Feature(
                        int64_list=tf.train.Int64List(value=[int(ordered_labels[position])])
                    )
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
                used += 1
        file = os.path.join(work, name)
        shards.append(
            {
                "file": name,
                "num_examples": int(bounds[index + 1] - bounds[index]),
                "bytes": os.path.getsize(file),
                "sha256": _sha256(file),
            }
        )
    return shards


def parse_batch(serialized, manifest, image_size):
    """Decodes a batch of records: float32 images [batch, H, W, C] in [-1, 1] (and int32
    labels for labelled packs)."""
    shape = tuple(manifest["shape"])
    spec = {"image": tf.io.FixedLenFeature([], tf.string)}
    labelled = manifest["num_classes"] is not None
    if labelled:
        spec["label"] = tf.io.FixedLenFeature([], tf.int64)
    parsed = tf.io.parse_example(serialized, spec)
    pixels = tf.io.decode_raw(parsed["image"], tf.uint8)
    images = tf.reshape(pixels, [-1, *shape])  # uint8
    if image_size is not None and tuple(image_size) != shape[:2]:
        images = tf.image.resize(images, image_size, antialias=True)  # float32, 0-255
    images = pixels_to_unit(images)
    if not labelled:
        return images
    return images, tf.cast(parsed["label"], tf.int32)


def shard_plan(manifest, num_examples, shard):
    """Which shard files this reader takes, with how many records of each, and how many
    records it yields per pass.

    With `num_examples`, the first ones in the pack's order are kept. Under `shard=(index,
    count)` a reader takes every `count`-th shard file when there are at least `count` files,
    else every `count`-th record; each reader yields as many records as the smallest share,
    so that every reader takes the same number of steps.

    Returns:
        `(files, counts, record_stride, per_pass)`: record_stride is `(count, index)` for
        record-level sharding, else None.
    """
    files, counts, left = [], [], num_examples or manifest["num_examples"]
    for entry in manifest["shards"]:
        if left <= 0:
            break
        files.append(entry["file"])
        counts.append(min(entry["num_examples"], left))
        left -= counts[-1]
    total = sum(counts)
    if shard is None or shard[1] == 1:
        return files, counts, None, total
    index, count = shard
    if len(files) >= count:
        shares = [sum(counts[i::count]) for i in range(count)]
        return files[index::count], counts[index::count], None, min(shares)
    return files, counts, (count, index), total // count


def records_dataset(path, manifest, shuffle, seed, counter, num_examples, shard):
    """Unbatched serialized records of a pack, one pass per iteration.

    Shuffled, each pass reads its shard files in an order and through a shuffle buffer both
    seeded by `(seed, epoch)`; unshuffled, the pack's order.
    """

    files, counts, stride, per_pass = shard_plan(manifest, num_examples, shard)
    paths = tf.constant([os.path.join(path, f) for f in files])
    takes = tf.constant(counts, tf.int64)
    example_bytes = int(np.prod(manifest["shape"]))
    buffer = min(per_pass, max(1024, SHUFFLE_BUFFER_BYTES // example_bytes))

    def one_pass(seeds):
        order = tf.range(len(files), dtype=tf.int64)
        if seeds is not None:
            order = permutation(len(files), seeds)
        pairs = tf.data.Dataset.from_tensor_slices(
            (tf.gather(paths, order), tf.gather(takes, order))
        )
        records = pairs.interleave(
            plain(lambda file, take: tf.data.TFRecordDataset(file).take(take)),
            cycle_length=1 if seeds is None else min(4, len(files)),
            **(
                {}
                if seeds is None
                else {"num_parallel_calls": tf.data.AUTOTUNE, "deterministic": True}
            ),
        )
        if stride is not None:
            records = records.shard(*stride)
        if seeds is not None:
            records = seeded_shuffle(records, buffer, seeds)
        return records.take(per_pass)

    if not shuffle:
        return one_pass(None).apply(tf.data.experimental.assert_cardinality(per_pass))
    return per_epoch(one_pass, seed, counter, per_pass)
