"""User arrays: `.npz` and `.npy` files, read whole or through memory maps.

An uncompressed `.npz` (`np.savez`) or an `.npy` file can be memory-mapped: its arrays are read
a batch at a time and never held whole. A compressed `.npz` (`np.savez_compressed`) can only be
read whole.
"""

import math
import struct
import zipfile

import numpy as np
import tensorflow as tf

# Rows per chunk when a memory-mapped array is scanned (finiteness and range).
_SCAN_ROWS = 4096


def evenly_spaced_subset(x, y, num_examples):
    if num_examples is None:
        return x, y
    if num_examples > len(x):
        raise ValueError(
            f"num_examples={num_examples} but the split has only {len(x)} "
            "examples; lower num_examples or leave it as None"
        )
    idx = (np.arange(num_examples) * len(x)) // num_examples
    return x[idx], None if y is None else y[idx]


def npz_splits(path):
    if path.lower().endswith(".npy"):
        return ("train",)
    keys = set(array_headers(path))
    if "x_train" in keys:
        return ("train", "test") if "x_test" in keys else ("train",)
    if "x" in keys:
        return ("train",)
    raise ValueError(
        f"{path!r} has arrays {sorted(keys)}; it needs 'x' (and optionally 'y'), "
        "or 'x_train'/'y_train'/'x_test'/'y_test'"
    )


def npz_raw(path, split):
    """Reads x, y of one split and checks shapes, finiteness and labels (not the range)."""
    splits = check_split(path, split)
    if path.lower().endswith(".npy"):
        return _check_xy(np.load(path, allow_pickle=False), None, path)
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


def check_split(path, split):
    splits = npz_splits(path)
    if split not in splits and split != "all":
        raise ValueError(
            f"{path!r} has no {split!r} split (it has {splits}); store x_train/"
            "x_test arrays for a test split, or use split='train'"
        )
    return splits


def _check_xy(x, y, path):
    """Checks x's shape, dtype and finiteness (a chunk at a time) and y's class ids; returns
    `(x, y)` with images as (N, H, W, C) and y int32."""
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
    if np.issubdtype(x.dtype, np.floating) and not scan(x)[0]:
        bad = sum(int(np.size(c) - np.isfinite(c).sum()) for c in np.array_split(x, 64))
        raise ValueError(f"{path!r}: x holds {bad} NaN or infinite values; remove or replace them")
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


def unit_range(x_min, x_max, dtype, value_range, path):
    """The `(lo, hi)` that `value_range` (default by dtype) maps to [-1, 1], checked against
    the images' own `[x_min, x_max]`."""
    declared = value_range is not None
    if declared:
        if len(value_range) != 2 or not value_range[0] < value_range[1]:
            raise ValueError(f"value_range must be (lo, hi) with lo < hi; got {value_range!r}")
        lo, hi = float(value_range[0]), float(value_range[1])
    else:
        lo, hi = (0.0, 255.0) if np.issubdtype(dtype, np.integer) else (-1.0, 1.0)
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
            f"{path!r}: x ({dtype}) has values in [{x_min:g}, {x_max:g}], outside the "
            f"{'declared' if declared else 'assumed'} range ({lo:g}, {hi:g}); pass the range "
            f"your images use, e.g. value_range={hint}"
        )
    return lo, hi


def to_unit(x, lo, hi):
    """Maps numpy or TensorFlow images linearly from [lo, hi] to float32 [-1, 1] (the same
    float32 operations for both, so a streamed batch equals the array read whole)."""
    if isinstance(x, np.ndarray):
        x = (x.astype(np.float32) - np.float32(lo)) * np.float32(2.0 / (hi - lo)) - 1
        return np.clip(x, -1.0, 1.0)
    x = (tf.cast(x, tf.float32) - np.float32(lo)) * np.float32(2.0 / (hi - lo)) - 1
    return tf.clip_by_value(x, -1.0, 1.0)


def images_to_unit(x, value_range, path):
    """Maps images from value_range (default by dtype) linearly to float32 [-1, 1]."""
    lo, hi = unit_range(float(x.min()), float(x.max()), x.dtype, value_range, path)
    return to_unit(x, lo, hi)


def resize_images(x, image_size):
    """Bilinear resize of float images [N, H, W, C] in [-1, 1], in chunks."""
    if x.shape[1:3] == image_size:
        return x
    out = [
        tf.image.resize(x[i : i + 1024], image_size, antialias=True).numpy()
        for i in range(0, len(x), 1024)
    ]
    return np.clip(np.concatenate(out), -1.0, 1.0)


# Memory maps.


def _local_data_offset(path, member):
    """The byte offset of a stored (uncompressed) zip member's data in the file."""
    with open(path, "rb") as f:
        f.seek(member.header_offset)
        header = f.read(30)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    return member.header_offset + 30 + name_length + extra_length


def _read_npy_header(f):
    version = np.lib.format.read_magic(f)
    read = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    shape, fortran, dtype = read(f)
    return shape, fortran, dtype, f.tell()


def array_headers(path):
    """`{name: (shape, fortran_order, dtype, offset)}` of the arrays of an `.npz` or `.npy`
    file, read from their headers; `offset` is where the data starts in the file, None for a
    compressed member (which cannot be memory-mapped)."""
    if path.lower().endswith(".npy"):
        with open(path, "rb") as f:
            return {"x": _read_npy_header(f)}
    headers = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            if not member.filename.endswith(".npy"):
                continue
            with archive.open(member) as f:
                shape, fortran, dtype, start = _read_npy_header(f)
            offset = None
            if member.compress_type == zipfile.ZIP_STORED:
                offset = _local_data_offset(path, member) + start
            headers[member.filename[:-4]] = (shape, fortran, dtype, offset)
    return headers


def lazy_arrays(path, split):
    """`(x, y)` of one split with x memory-mapped, or None when x is compressed (or an object
    array, or a split made of two arrays); checked as `npz_raw` checks, x a chunk at a time.
    y is read whole."""
    check_split(path, split)
    headers = array_headers(path)
    keys = ["x"] if "x" in headers else [f"x_{s}" for s in _parts(path, split)]
    if any(headers[k][3] is None or headers[k][2].hasobject for k in keys):
        return None
    if len(keys) > 1:
        return None  # train + test of a split file: read whole
    shape, fortran, dtype, offset = headers[keys[0]]
    x = np.memmap(path, dtype, "r", offset, shape, "F" if fortran else "C")
    y_key = "y" if keys[0] == "x" else f"y_{keys[0][2:]}"
    y = None
    if y_key in headers:
        with np.load(path, allow_pickle=False) as f:
            y = f[y_key]
    return _check_xy(x, y, path)


def _parts(path, split):
    splits = npz_splits(path)
    return splits if split == "all" else (split,)


def array_bytes(path, split):
    """Bytes of the split's x as float32, from the headers."""
    headers = array_headers(path)
    keys = ["x"] if "x" in headers else [f"x_{s}" for s in _parts(path, split)]
    return sum(4 * int(np.prod(headers[k][0])) for k in keys)


def scan(x):
    """`(finite, min, max)` of an array read `_SCAN_ROWS` rows at a time."""
    finite, low, high = True, math.inf, -math.inf
    for i in range(0, len(x), _SCAN_ROWS):
        chunk = np.asarray(x[i : i + _SCAN_ROWS])
        if np.issubdtype(chunk.dtype, np.floating):
            finite = finite and bool(np.isfinite(chunk).all())
        if finite and chunk.size:
            low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    return finite, low, high
