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
"""

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
    if len(images.shape) != 4:
        raise ValueError(
            f"diff_augment takes images [batch, height, width, channels]; got shape {images.shape}"
        )
    for i, name in enumerate(("color", "translation", "cutout")):
        if name in names:
            step_seed = seed + 101 * i if isinstance(seed, int) else seed
            images = _FUNCTIONS[name](images, seed=step_seed)
    return images
