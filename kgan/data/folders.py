"""Image folders: the file list, the shape from the images' headers, and the one decoder.

Every image of a folder is read by `decode_file`, a TensorFlow function, whether the folder is
read into memory or streamed from disk, so both give the same pixels. The files' headers are
read (not their pixels) to learn the shape: all of them up to `HEADER_SAMPLE` files, an evenly
spaced sample of that many beyond, so that describing a folder of a million images reads a
thousand headers.
"""

import os

import numpy as np
import tensorflow as tf

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
HEADER_SAMPLE = 1000
# Image modes that hold one channel; every other mode is read as RGB (alpha is dropped).
_GRAY_MODES = ("1", "L", "LA")
_WIDE_MODES = ("I", "I;16", "I;16B", "I;16L", "F")
# The first two bytes of each format decode_file reads: PNG, JPEG, GIF, BMP.
_SIGNATURES = (b"\x89P", b"\xff\xd8", b"GI", b"BM")


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


def _entries(folder):
    """`(name, is_dir, is_file)` of the folder's entries, sorted, hidden ones left out.
    scandir knows each entry's type from the directory itself: no stat per file."""
    with os.scandir(folder) as listing:
        return sorted(
            (e.name, e.is_dir(), e.is_file()) for e in listing if not e.name.startswith(".")
        )


def folder_classes(folder):
    """The class names of a folder: its subfolders' names, sorted (label i is the i-th)."""
    return [name for name, is_dir, _ in _entries(folder) if is_dir]


def folder_files(folder):
    """Returns (files, labels or None) for class subfolders or a flat folder of images."""
    entries = _entries(folder)
    classes = [name for name, is_dir, _ in entries if is_dir]
    flat = [
        os.path.join(folder, name)
        for name, _, is_file in entries
        if is_file and name.lower().endswith(IMAGE_EXTENSIONS)
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


def folder_shape(folder, files, image_size):
    """The shape `(height, width, channels)` of the folder's images as `load` yields them.

    Reads the headers of up to `HEADER_SAMPLE` evenly spaced files. Channels are 3 when any
    of them is colour, else 1. Without `image_size` the sampled images must share one size;
    an image outside the sample of another size is refused when it is read.

    Returns:
        `(shape, sizes)`: the output shape (height and width None for mixed sizes without
        `image_size`) and the sampled sizes, `{(height, width): first file of that size}`.
    """
    from PIL import Image, UnidentifiedImageError

    step = max(1, len(files) / HEADER_SAMPLE)
    sample = [files[int(i * step)] for i in range(min(len(files), HEADER_SAMPLE))]
    sizes, channels = {}, 1
    for path in sample:
        try:
            with Image.open(path) as img:
                mode, size = img.mode, (img.height, img.width)
        except UnidentifiedImageError as e:
            raise ValueError(f"cannot read {path!r} as an image; remove it from the folder") from e
        if mode in _WIDE_MODES:
            raise ValueError(f"{path!r} is a {mode} (16/32-bit) image; save it as 8-bit")
        channels = max(channels, 1 if mode in _GRAY_MODES else 3)
        sizes.setdefault(size, path)
    if image_size is not None:
        return (*image_size, channels), sizes
    if len(sizes) > 1:
        return (None, None, channels), sizes
    return (*next(iter(sizes)), channels), sizes


def parse_image_size(image_size, source="image"):
    """`image_size` as `(height, width)` ints (one int is a square), or None.

    Raises:
        ValueError: not two positive ints, or given for `source="mixture"` (vector data).
    """
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (int(image_size), int(image_size))
    if image_size is None:
        return None
    size = tuple(image_size) if isinstance(image_size, (tuple, list)) else ()
    if (
        len(size) != 2
        or source == "mixture"
        or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in size
        )
    ):
        raise ValueError(
            "image_size must be (height, width) with positive ints, for image "
            f"data only; got {image_size!r} for {source!r}"
        )
    return tuple(int(s) for s in size)


def mixed_sizes_error(folder, sizes):
    (s1, f1), (s2, f2) = list(sizes.items())[:2]
    return ValueError(
        f"images in {folder!r} differ in size, e.g. {f1!r} is {s1[0]}x{s1[1]} "
        f"and {f2!r} is {s2[0]}x{s2[1]}; pass image_size=(height, width) to "
        "resize them all"
    )


def _to_gray(image):
    """uint8 [h, w, c] with any c to [h, w, 1]: alpha dropped, colour to gray by ITU-R 601-2
    luma with PIL's integer rounding."""
    image = tf.cond(tf.shape(image)[-1] <= 2, lambda: image[..., :1], lambda: image[..., :3])

    def luma():
        rgb = tf.cast(image, tf.int32)
        weighted = rgb[..., :1] * 19595 + rgb[..., 1:2] * 38470 + rgb[..., 2:] * 7471
        return tf.cast(tf.bitwise.right_shift(weighted + 0x8000, 16), tf.uint8)

    return tf.cond(tf.shape(image)[-1] == 3, luma, lambda: image)


def decode_file(path, shape, image_size, checked=True):
    """Reads one image file as its pixels [height, width, channels] (a TF function): uint8,
    or float32 on the 0-255 scale when resized to `image_size` (bilinear with antialiasing;
    an image already of that size is unchanged). `pixels_to_unit` maps a batch of them to
    [-1, 1].

    Checked (the default), a file that is not a PNG, JPEG, GIF or BMP, a PNG cut short, and an
    image of another size than `shape` (without `image_size`) fail with an error that names
    the file. Unchecked, TensorFlow's decoder and `ensure_shape` still refuse each of them,
    without the file's name, and the read costs about a tenth less: for files already read
    once with the checks.

    Args:
        path: a scalar string tensor.
        shape: `(height, width, channels)`; height and width are None for mixed sizes.
        image_size: `(height, width)` to resize to, or None.
        checked: name the file in the errors above.
    """
    contents = tf.io.read_file(path)
    if checked:
        contents = _checked_contents(path, contents)
    if shape[-1] == 3:  # every format decodes to RGB directly, alpha dropped
        image = tf.io.decode_image(contents, channels=3, expand_animations=False)
    else:
        image = _to_gray(tf.io.decode_image(contents, expand_animations=False))
    if image_size is not None:
        image = tf.image.resize(image, image_size, antialias=True)  # float32, 0-255
    elif checked:
        same = tf.debugging.Assert(
            tf.reduce_all(tf.shape(image)[:2] == shape[:2]),
            [
                "images differ in size:",
                path,
                "is",
                tf.shape(image)[:2],
                "and the others are",
                shape[:2],
                "; pass image_size=(height, width) to resize them all",
            ],
        )
        with tf.control_dependencies([same]):
            image = tf.identity(image)
    return tf.ensure_shape(image, shape)


def _checked_contents(path, contents):
    """A file's bytes, after asserting that they start as a PNG, JPEG, GIF or BMP does and,
    for a PNG, end with its IEND chunk."""
    head = tf.strings.substr(contents, 0, 2)
    known = tf.reduce_any(tf.equal(head, _SIGNATURES))
    tail = tf.strings.substr(contents, tf.maximum(tf.strings.length(contents) - 8, 0), 4)
    complete = tf.logical_or(tf.not_equal(head, _SIGNATURES[0]), tf.equal(tail, b"IEND"))
    checked = tf.debugging.Assert(
        tf.logical_and(known, complete),
        [
            "cannot read",
            path,
            "as an image (not a PNG, JPEG, GIF or BMP, or cut short); remove it from the folder",
        ],
    )
    with tf.control_dependencies([checked]):
        return tf.identity(contents)


def pixels_to_unit(pixels):
    """A batch of `decode_file`'s pixels as float32 in [-1, 1]."""
    images = tf.cast(pixels, tf.float32) / 127.5 - 1.0
    return images if pixels.dtype == tf.uint8 else tf.clip_by_value(images, -1.0, 1.0)
