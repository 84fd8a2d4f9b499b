"""Differentiable augmentation of images for data-efficient GAN training (DiffAugment).

Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training": the same random
transformations are applied to real and generated images before the discriminator sees them,
in the discriminator's and in the generator's update. Every transformation is differentiable
with respect to the images, so the generator's gradients flow through it, and the generator
does not learn to produce the augmentations. Each image of a batch draws its own parameters.

The policies, as in the paper:

- `"translation"`: shift by up to 1/8 of the height and width (integer pixels), zero fill.
- `"cutout"`: set a square of half the height and width at a random place to zero.
- `"color"`: random brightness (add U(-0.5, 0.5)), saturation (scale the deviation from the
  channel mean by U(0, 2)) and contrast (scale the deviation from the image mean by
  U(0.5, 1.5)).

`affine` (not a DiffAugment policy) rotates, scales and shifts each image by a small random
amount with bilinear resampling: the view of a real image that a model's categories should not
change (self-augmented training, Hu et al. 2017).
"""

import math

import keras
from keras import ops

POLICIES = ("translation", "cutout", "color")


def parse_policy(policy):
    """Turns a policy (a comma-separated string or a sequence of names) into a tuple of names.

    Args:
        policy: e.g. `"translation,cutout,color"`, `["color"]`, or None / `""` for none.

    Returns:
        A tuple of names from `kgan.augment.POLICIES`, in the order given.

    Example:
        >>> kgan.augment.parse_policy("translation,cutout")
        ('translation', 'cutout')
    """
    if policy is None:
        return ()
    if isinstance(policy, str):
        names = [name.strip() for name in policy.split(",") if name.strip()]
    elif isinstance(policy, list | tuple):
        names = list(policy)
    else:
        raise ValueError(
            f"augment must be a string such as 'translation,cutout,color' or a list of names; "
            f"got {policy!r}"
        )
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ValueError(f"unknown augmentation(s) {unknown}; choose from {list(POLICIES)}")
    if len(set(names)) != len(names):
        raise ValueError(f"each augmentation may appear once; got {names}")
    return tuple(names)


def translation(images, ratio=0.125, seed=None):
    """Shifts each image by a random whole number of pixels, filling with zeros.

    Args:
        images: `[batch, height, width, channels]` float tensor.
        ratio: the largest shift as a fraction of the height (width).
        seed: an int or a `keras.random.SeedGenerator`.

    Returns:
        The shifted images, same shape.
    """
    batch = ops.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    shift_h, shift_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    seed_y, seed_x = _seeds(seed, 2)
    dy = keras.random.randint((batch, 1), -shift_h, shift_h + 1, seed=seed_y)  # [batch, 1]
    dx = keras.random.randint((batch, 1), -shift_w, shift_w + 1, seed=seed_x)  # [batch, 1]
    padded = ops.pad(images, [[0, 0], [shift_h, shift_h], [shift_w, shift_w], [0, 0]])
    # Output pixel (i, j) reads padded pixel (i + shift_h - dy, j + shift_w - dx).
    rows = ops.arange(height, dtype="int32")[None, :] + shift_h - dy  # [batch, height]
    cols = ops.arange(width, dtype="int32")[None, :] + shift_w - dx  # [batch, width]
    shifted = ops.take_along_axis(padded, rows[:, :, None, None], axis=1)  # [b, h, w+2s, c]
    return ops.take_along_axis(shifted, cols[:, None, :, None], axis=2)  # [b, h, w, c]


def cutout(images, ratio=0.5, seed=None):
    """Zeroes a square of `ratio` times the image size at a random place in each image.

    Args:
        images: `[batch, height, width, channels]` float tensor.
        ratio: the side of the square as a fraction of the height (width).
        seed: an int or a `keras.random.SeedGenerator`.

    Returns:
        The images with one zeroed square each, same shape.
    """
    batch = ops.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    size_h, size_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    # The square's centre may lie anywhere in the image; it is clipped at the borders.
    seed_y, seed_x = _seeds(seed, 2)
    cy = keras.random.randint((batch, 1), 0, height, seed=seed_y)  # [batch, 1]
    cx = keras.random.randint((batch, 1), 0, width, seed=seed_x)  # [batch, 1]
    rows = ops.arange(height, dtype="int32")[None, :] - (cy - size_h // 2)  # [batch, height]
    cols = ops.arange(width, dtype="int32")[None, :] - (cx - size_w // 2)  # [batch, width]
    in_rows = ops.logical_and(rows >= 0, rows < size_h)
    in_cols = ops.logical_and(cols >= 0, cols < size_w)
    inside = ops.logical_and(in_rows[:, :, None], in_cols[:, None, :])  # [batch, h, w]
    keep = ops.cast(ops.logical_not(inside), images.dtype)[..., None]  # [batch, h, w, 1]
    return images * keep


def color(images, seed=None):
    """Random brightness, saturation and contrast per image.

    Args:
        images: `[batch, height, width, channels]` float tensor in [-1, 1].
        seed: an int or a `keras.random.SeedGenerator`.

    Returns:
        The recoloured images, same shape (values may leave [-1, 1], as in the paper).
    """
    batch = ops.shape(images)[0]
    dtype = images.dtype

    seeds = _seeds(seed, 3)

    def uniform(i):
        return keras.random.uniform((batch, 1, 1, 1), dtype=dtype, seed=seeds[i])

    images = images + (uniform(0) - 0.5)
    channel_mean = ops.mean(images, axis=3, keepdims=True)
    images = (images - channel_mean) * (uniform(1) * 2.0) + channel_mean
    image_mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return (images - image_mean) * (uniform(2) + 0.5) + image_mean


def affine(images, rotation=15.0, scale=0.1, shift=0.1, fill_value=-1.0, seed=None):
    """Rotates, scales and shifts each image by its own random amount (bilinear resampling).

    Each image draws an angle uniform in `[-rotation, rotation]` degrees, a scale factor uniform
    in `[1 - scale, 1 + scale]` (about the image's centre) and a shift uniform in
    `[-shift, shift]` of the height and width (sub-pixel). Pixels that come from outside the
    image take `fill_value` (-1, the background of images in [-1, 1]). Built from gathers, so it
    compiles with XLA and is differentiable with respect to `images`.

    Args:
        images: `[batch, height, width, channels]` float tensor.
        rotation: the largest angle in degrees (>= 0).
        scale: the largest relative change of size, in [0, 1).
        shift: the largest shift as a fraction of the height (width), >= 0.
        fill_value: the value of pixels from outside the image.
        seed: an int or a `keras.random.SeedGenerator`.

    Returns:
        The transformed images, same shape and dtype.

    Example:
        >>> views = kgan.augment.affine(images, rotation=15, scale=0.1, shift=0.1, seed=0)
    """
    _check_images(images, "affine")
    if not (rotation >= 0 and 0 <= scale < 1 and shift >= 0):
        raise ValueError(
            f"affine needs rotation >= 0, 0 <= scale < 1 and shift >= 0; got rotation="
            f"{rotation}, scale={scale}, shift={shift}"
        )
    batch = ops.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    seeds = _seeds(seed, 4)

    def uniform(i, bound):
        return keras.random.uniform((batch,), -bound, bound, seed=seeds[i])  # [batch]

    angle = uniform(0, math.radians(rotation))
    zoom = 1.0 + uniform(1, scale)
    dy, dx = uniform(2, shift * height), uniform(3, shift * width)
    return affine_resample(images, angle, zoom, dy, dx, fill_value=fill_value)


def affine_resample(images, angle, zoom, dy, dx, fill_value=-1.0):
    """Rotates each image by `angle` radians and scales it by `zoom` about its centre, then
    shifts it by `(dy, dx)` pixels (down, right), with bilinear resampling.

    Output pixel `p` reads the input at `c + R(-angle) (p - c - d) / zoom` (`c` the centre,
    `d` the shift); pixels read from outside the image take `fill_value`.

    Args:
        images: `[batch, height, width, channels]` float tensor.
        angle, zoom, dy, dx: `[batch]` float tensors, one value per image (`zoom` > 0).
        fill_value: the value of pixels from outside the image.

    Returns:
        The transformed images, same shape and dtype.
    """
    _check_images(images, "affine_resample")
    batch = ops.shape(images)[0]
    height, width, channels = images.shape[1], images.shape[2], images.shape[3]
    angle, zoom, dy, dx = (
        ops.reshape(ops.cast(v, "float32"), (-1, 1)) for v in (angle, zoom, dy, dx)
    )
    cos, sin = ops.cos(angle) / zoom, ops.sin(angle) / zoom
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    grid_y, grid_x = ops.meshgrid(
        ops.arange(height, dtype="float32"), ops.arange(width, dtype="float32"), indexing="ij"
    )
    oy = ops.reshape(grid_y, (1, -1)) - cy - dy  # [batch, h * w]
    ox = ops.reshape(grid_x, (1, -1)) - cx - dx
    src_y = cos * oy + sin * ox + cy
    src_x = -sin * oy + cos * ox + cx
    y0, x0 = ops.floor(src_y), ops.floor(src_x)
    flat = ops.reshape(images, (batch, height * width, channels))
    dtype = images.dtype
    result = 0.0
    # Bilinear: the four neighbours, each weighted by its closeness; outside ones read the fill.
    for ny in (0, 1):
        for nx in (0, 1):
            py, px = y0 + ny, x0 + nx
            weight = (1.0 - ops.abs(src_y - py)) * (1.0 - ops.abs(src_x - px))  # [batch, h * w]
            inside = (py >= 0) & (py <= height - 1) & (px >= 0) & (px <= width - 1)
            index = ops.cast(
                ops.clip(py, 0, height - 1) * width + ops.clip(px, 0, width - 1), "int32"
            )
            values = ops.take_along_axis(flat, index[:, :, None], axis=1)  # [b, h * w, c]
            values = ops.where(inside[:, :, None], values, ops.cast(fill_value, dtype))
            result = result + ops.cast(weight, dtype)[:, :, None] * values
    return ops.reshape(result, (batch, height, width, channels))


def _check_images(images, function):
    if len(images.shape) != 4:
        raise ValueError(
            f"{function} takes images [batch, height, width, channels]; got shape {images.shape}"
        )


def _seeds(seed, count):
    # An int seed makes every keras.random call draw the same numbers, so each draw gets its own;
    # a SeedGenerator (or None, Keras's global one) advances by itself.
    if isinstance(seed, int):
        return [seed + 7919 * i for i in range(count)]
    return [seed] * count


_FUNCTIONS = {"translation": translation, "cutout": cutout, "color": color}


def diff_augment(images, policy="translation,cutout,color", seed=None):
    """Applies the policy's transformations in turn (color, then translation, then cutout).

    Args:
        images: `[batch, height, width, channels]` float tensor.
        policy: names from `kgan.augment.POLICIES`, as a comma-separated string or a list.
        seed: an int or a `keras.random.SeedGenerator` (a trainer passes its own).

    Returns:
        The augmented images, same shape; differentiable with respect to `images`.

    Example:
        >>> x = kgan.augment.diff_augment(images, "translation,cutout", seed=0)
    """
    names = parse_policy(policy)
    _check_images(images, "diff_augment")
    for i, name in enumerate(("color", "translation", "cutout")):
        if name in names:
            step_seed = seed + 101 * i if isinstance(seed, int) else seed
            images = _FUNCTIONS[name](images, seed=step_seed)
    return images
