"""User data: `.npz` files and image folders."""

import math
import os

import numpy as np
import tensorflow as tf

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


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


def npz_raw(path, split):
    """Reads x, y of one split and checks shapes, finiteness and labels (not the range)."""
    splits = npz_splits(path)
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


def images_to_unit(x, value_range, path):
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


def resize_images(x, image_size):
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
            if f.lower().endswith(IMAGE_EXTENSIONS) and not f.startswith(".")
        ]
    return found


def folder_files(folder):
    """Returns (files, labels or None) for class subfolders or a flat folder of images."""
    entries = sorted(e for e in os.listdir(folder) if not e.startswith("."))
    classes = [e for e in entries if os.path.isdir(os.path.join(folder, e))]
    flat = [
        os.path.join(folder, e)
        for e in entries
        if e.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(folder, e))
    ]
    if classes and flat:
        raise ValueError(
            f"{folder!r} holds both images and subfolders; put every image in a "
            "class subfolder, or use a flat folder of images without subfolders"
        )
    if not classes and not flat:
        raise ValueError(
            f"no images in {folder!r}: expected {'/'.join(IMAGE_EXTENSIONS)} "
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


def folder_arrays(folder, split, image_size, num_examples):
    if split == "test":
        raise ValueError(
            f"image folder {folder!r} has no test split; use split='train' "
            "(or 'all'), or keep test images in a separate folder"
        )
    files, labels = folder_files(folder)
    files, labels = evenly_spaced_subset(np.asarray(files), labels, num_examples)
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
        x = np.stack(
            [resize_images(im[None] / np.float32(127.5) - 1, image_size)[0] for im in images]
        )
    else:
        x = np.stack(images) / np.float32(127.5) - 1
        x = x if image_size is None else resize_images(x, image_size)
    return x.astype(np.float32), labels
