"""The public entry points: `load`, `load_arrays`, `info` and `names`."""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from kgan.data.builtin import (
    IMAGE_NAMES,
    MIXTURE_DEFAULT_COUNTS,
    MIXTURE_NAMES,
    STACKED_COUNTS,
    digits_raw,
    mixture_arrays,
    mixture_spec,
    mnist_5k_raw,
    split_indices,
    stacked_mnist_raw,
    unknown_dataset_error,
)
from kgan.data.epochs import attach_counter, new_counter, shuffled_indices, stream_seed
from kgan.data.files import (
    IMAGE_EXTENSIONS,
    evenly_spaced_subset,
    folder_arrays,
    folder_files,
    images_to_unit,
    npz_raw,
    npz_splits,
    resize_images,
)
from kgan.data.tfds_source import tfds_builder, tfds_dataset

_SPLITS = ("train", "test", "all")
_PATH_EXTENSIONS = (".npz", ".npy", ".csv", ".txt") + IMAGE_EXTENSIONS


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a dataset holds, as returned by `kgan.data.info`.

    Args:
        name: The name or path the dataset was asked for by.
        shape: Shape of one example, e.g. `(28, 28, 1)` for images or `(2,)` for vectors.
            Image folders with mixed sizes report `(None, None, channels)`.
        num_classes: Number of classes, or None for unlabelled data.
        kind: `"image"` or `"vector"`.
        num_examples: Examples per split, for the splits whose size is known.
    """

    name: str
    shape: tuple
    num_classes: int | None
    kind: str
    num_examples: dict


def info(name_or_path, data_dir=None) -> DatasetInfo:
    """Describes a dataset without building a pipeline.

    Built-in and TFDS names are described from metadata (TFDS data is not downloaded); user
    files and folders are read.

    Args:
        name_or_path: A built-in name (see `names()`), a TFDS name, a `.npz` path or an image
            folder.
        data_dir: TFDS data directory; ignored for other sources.

    Returns:
        A `DatasetInfo`.

    Example:
        >>> kgan.data.info("ring8").shape
        (2,)
    """
    source, target = _resolve(name_or_path)
    if source == "mnist_5k":
        return DatasetInfo(target, (28, 28, 1), 10, "image", {"train": 4000, "test": 1000})
    if source == "stacked_mnist_5k":
        return DatasetInfo(target, (28, 28, 3), 1000, "image", dict(STACKED_COUNTS))
    if source == "digits":
        counts = {s: len(split_indices(digits_raw()[1], s)) for s in ("train", "test")}
        return DatasetInfo(target, (8, 8, 1), 10, "image", counts)
    if source == "mixture":
        k = mixture_spec(target).num_modes
        return DatasetInfo(target, (2,), k, "vector", dict(MIXTURE_DEFAULT_COUNTS))
    if source == "tfds":
        builder, image_key, label_key = tfds_builder(target, data_dir)
        features = builder.info.features
        counts = {k: int(v.num_examples) for k, v in builder.info.splits.items()}
        num_classes = getattr(features[label_key], "num_classes", None)
        return DatasetInfo(target, tuple(features[image_key].shape), num_classes, "image", counts)
    if source == "folder":
        files, labels = folder_files(target)
        from PIL import Image

        shapes = set()
        for f in files:
            with Image.open(f) as img:
                shapes.add((img.height, img.width, 1 if img.mode in ("1", "L", "LA") else 3))
        channels = max(s[2] for s in shapes)
        shape = next(iter(shapes))[:2] if len({s[:2] for s in shapes}) == 1 else (None, None)
        num_classes = None if labels is None else int(labels.max()) + 1
        return DatasetInfo(
            str(name_or_path),
            (*shape, channels),
            num_classes,
            "image",
            {"train": len(files)},
        )
    counts, num_classes = {}, None
    for split in npz_splits(target):
        x, y = npz_raw(target, split)
        counts[split] = len(x)
        if y is not None:
            num_classes = max(num_classes or 0, int(y.max()) + 1)
    shape = x.shape[1:]
    kind = "vector" if x.ndim == 2 else "image"
    return DatasetInfo(str(name_or_path), shape, num_classes, kind, counts)


def load_arrays(
    name_or_path,
    split="train",
    image_size=None,
    data_dir=None,
    value_range=None,
    num_examples=None,
):
    """Loads a whole split into memory as numpy arrays.

    Args:
        name_or_path: A built-in name (see `names()`), a TFDS name such as `"cifar10"`, a path
            to an `.npz` file (arrays `x` and optional `y`, or `x_train`/`y_train`/`x_test`/
            `y_test`) or an image folder (class subfolders, or a flat folder without labels).
        split: `"train"`, `"test"` or `"all"` (TFDS names accept any TFDS split string).
        image_size: Optional `(height, width)` (or one int) to resize images to (bilinear).
        data_dir: TFDS data directory; ignored for other sources.
        value_range: `(lo, hi)` range of the images in an `.npz` file, mapped linearly to
            [-1, 1]. Default: (0, 255) for integer images, (-1, 1) for float images.
        num_examples: Keep this many examples. Mixtures draw this many points (default
            100,000 train / 10,000 test); TFDS takes the first ones; other sources keep an
            evenly spaced subset, so class-sorted data keeps every class.

    Returns:
        `(x, y)`: x float32 images [N, H, W, C] in [-1, 1] (or float32 vectors [N, D]), y int32
        labels [N] or None for unlabelled data.

    Example:
        >>> x, y = kgan.data.load_arrays("mnist_5k", split="test")
        >>> x.shape, y.shape
        ((1000, 28, 28, 1), (1000,))
    """
    source, target = _resolve(name_or_path)
    image_size, num_examples = _check_common(source, split, image_size, num_examples, value_range)
    if source == "tfds":
        ds = tfds_dataset(
            target, split, data_dir, image_size, num_examples, False, None, False, None
        )
        parts = list(ds.batch(1024).as_numpy_iterator())
        if not parts:
            raise ValueError(f"TFDS dataset {target!r} split {split!r} holds no examples")
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    if source == "mixture":
        return mixture_arrays(target, split, num_examples)
    if source == "folder":
        return folder_arrays(target, split, image_size, num_examples)
    if source == "npz":
        x, y = npz_raw(target, split)
        if x.ndim == 2:
            if image_size is not None or value_range is not None:
                raise ValueError(
                    f"{target!r} holds vectors {x.shape}; image_size and "
                    "value_range apply only to images, leave them as None"
                )
            x = x.astype(np.float32)
        else:
            x = images_to_unit(x, value_range, target)
    elif source == "stacked_mnist_5k":
        splits = ("train", "test") if split == "all" else (split,)
        parts = [stacked_mnist_raw(s) for s in splits]
        x = np.concatenate([p[0] for p in parts]) / np.float32(127.5) - 1
        y = np.concatenate([p[1] for p in parts])
    else:
        x, y = mnist_5k_raw() if source == "mnist_5k" else digits_raw()
        idx = (
            np.concatenate([split_indices(y, s) for s in ("train", "test")])
            if (split == "all")
            else split_indices(y, split)
        )
        x, y = x[idx], y[idx]
        x = x / np.float32(127.5) - 1 if source == "mnist_5k" else x / np.float32(8) - 1
    x, y = evenly_spaced_subset(x, y, num_examples)
    if image_size is not None:
        x = resize_images(x, image_size)
    return x.astype(np.float32, copy=False), y


def load(
    name_or_path,
    split="train",
    batch_size=64,
    shuffle=True,
    seed=None,
    drop_remainder=False,
    image_size=None,
    data_dir=None,
    value_range=None,
    num_examples=None,
    cache=True,
    initial_epoch=0,
) -> tf.data.Dataset:
    """Builds a batched, shuffled and prefetched `tf.data.Dataset`.

    Labelled sources yield `(images, labels)`: float32 [batch, H, W, C] in [-1, 1] (float32
    [batch, D] for vectors) and int32 [batch]. Unlabelled sources (an `.npz` without `y`, a
    flat image folder) yield the images tensor alone.

    Args:
        name_or_path: A built-in name, TFDS name, `.npz` path or image folder; see
            `load_arrays`.
        split: `"train"`, `"test"` or `"all"` (TFDS names accept any TFDS split string).
        batch_size: Examples per batch, > 0.
        shuffle: Reshuffle the examples every epoch (every pass over the dataset).
        seed: Shuffle seed. The order of epoch `e` is a function of `(seed, e)` alone, so
            the same seed gives the same sequence of epochs, and a run resumed at epoch `k`
            sees the batches an uninterrupted run sees. None draws a seed from numpy's
            global RNG (so `keras.utils.set_random_seed` fixes it too).
        drop_remainder: Drop the last, smaller batch.
        image_size: Optional `(height, width)` to resize images to.
        data_dir: TFDS data directory; ignored for other sources.
        value_range: `(lo, hi)` of the images in an `.npz` file; see `load_arrays`.
        num_examples: Keep this many examples; see `load_arrays`.
        cache: Cache decoded TFDS examples in memory (in-memory sources always are).
        initial_epoch: The epoch index of the first pass; each pass advances it by one.
            `kgan.data.set_epoch` (or the `kgan.callbacks.DataEpoch` callback) sets it later.

    Returns:
        A `tf.data.Dataset`. It holds its epoch counter, which `kgan.data.set_epoch` and
        `kgan.data.get_epoch` reach; datasets derived from it with `map`, `take`, ... shuffle
        the same way but do not carry the counter.

    Example:
        >>> ds = kgan.data.load("ring8", batch_size=256, seed=0)
        >>> points, modes = next(iter(ds))  # [256, 2] float32, [256] int32
    """
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or (batch_size <= 0)
    ):
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int or None; got {seed!r}")
    counter = new_counter(initial_epoch)
    source, target = _resolve(name_or_path)
    seed = stream_seed(seed) if shuffle else None
    if source == "tfds":
        image_size, num_examples = _check_common(
            source, split, image_size, num_examples, value_range
        )
        ds = tfds_dataset(
            target, split, data_dir, image_size, num_examples, shuffle, seed, cache, counter
        )
        ds = ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
        return attach_counter(ds, counter)
    x, y = load_arrays(name_or_path, split, image_size, data_dir, value_range, num_examples)
    if drop_remainder and batch_size > len(x):
        raise ValueError(
            f"batch_size={batch_size} exceeds the {len(x)} examples, so "
            "drop_remainder=True would give no batch; lower batch_size"
        )
    x_t = tf.constant(x)
    y_t = None if y is None else tf.constant(y)
    # Shuffle indices, then gather whole batches: the permutation holds ints, not images.
    ds = shuffled_indices(len(x), seed, counter) if shuffle else tf.data.Dataset.range(len(x))
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if y_t is None:
        ds = ds.map(lambda i: tf.gather(x_t, i))
    else:
        ds = ds.map(lambda i: (tf.gather(x_t, i), tf.gather(y_t, i)))
    return attach_counter(ds.prefetch(tf.data.AUTOTUNE), counter)


# Resolution and argument checks.


def _resolve(name_or_path):
    """Returns (source, target): source is a built-in name, mixture, npz, folder or tfds."""
    if isinstance(name_or_path, os.PathLike):
        text, is_path = os.fspath(name_or_path), True
    elif isinstance(name_or_path, str):
        text, is_path = name_or_path, False
    else:
        raise TypeError(
            "name_or_path must be a dataset name or a path (str or os.PathLike); "
            f"got {type(name_or_path).__name__}"
        )
    if not is_path and text in IMAGE_NAMES:
        return text, text
    if not is_path and text in MIXTURE_NAMES:
        return "mixture", text
    path = os.path.expanduser(text)
    if os.path.isdir(path):
        return "folder", path
    if os.path.isfile(path):
        if path.lower().endswith(".npz"):
            return "npz", path
        raise ValueError(
            f"cannot read {text!r}: files must be .npz (array x, optional y); "
            "put images in a folder and pass the folder"
        )
    looks_like_path = text.startswith((".", "/", "~", "\\")) or text.lower().endswith(
        _PATH_EXTENSIONS
    )
    if is_path or looks_like_path or not text:
        raise unknown_dataset_error(text)
    return "tfds", text


def _check_common(source, split, image_size, num_examples, value_range):
    if source != "tfds" and split not in _SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits are {_SPLITS}")
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (int(image_size), int(image_size))
    if image_size is not None:
        size = tuple(image_size) if isinstance(image_size, (tuple, list)) else ()
        if (
            len(size) != 2
            or source == "mixture"
            or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size)
        ):
            raise ValueError(
                "image_size must be (height, width) with positive ints, for image "
                f"data only; got {image_size!r} for {source!r}"
            )
        image_size = tuple(int(s) for s in image_size)
    if num_examples is not None and (
        not isinstance(num_examples, (int, np.integer)) or num_examples <= 0
    ):
        raise ValueError(f"num_examples must be a positive int or None; got {num_examples!r}")
    if value_range is not None and source != "npz":
        raise ValueError(
            "value_range describes the pixel range of an .npz file; leave it as "
            f"None for {source!r} sources, whose range is known"
        )
    return image_size, num_examples
