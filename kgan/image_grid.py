"""Arranging images in a grid and writing it as a PNG; a model's samples as such a grid."""

import math

import numpy as np
from PIL import Image

from kgan.atomic import atomic_write


def image_grid(images, columns=None, padding=2, value_range=(-1.0, 1.0)):
    """Tiles a batch of images into one uint8 picture.

    Args:
        images: `[n, height, width, channels]` (1 or 3 channels) in `value_range`.
        columns: images per row; `ceil(sqrt(n))` when None.
        padding: pixels of black between images.
        value_range: the `(low, high)` range of `images`.

    Returns:
        A uint8 array `[rows * (height + padding) + padding, ..., channels]`.
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(
            f"images must have shape (n, height, width, 1 or 3) with n >= 1; got {images.shape}"
        )
    low, high = value_range
    scaled = np.clip((images - low) / (high - low), 0.0, 1.0)
    pixels = np.round(scaled * 255).astype("uint8")
    n, h, w, c = pixels.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.zeros((rows * (h + padding) + padding, columns * (w + padding) + padding, c), "uint8")
    for i in range(n):
        top = padding + (i // columns) * (h + padding)
        left = padding + (i % columns) * (w + padding)
        grid[top : top + h, left : left + w] = pixels[i]
    return grid


def save_image_grid(images, path, columns=None, scale=1, value_range=(-1.0, 1.0)):
    """Writes `image_grid(images)` to a PNG file, atomically.

    Args:
        images: `[n, height, width, channels]` in `value_range`.
        path: where to write the PNG; parent folders are created.
        columns: images per row.
        scale: integer upscaling factor (nearest neighbour) for small images.
        value_range: the `(low, high)` range of `images`.

    Returns:
        The path written.

    Example:
        >>> kgan.image_grid.save_image_grid(cgan.generate(100, seed=0), "samples.png", columns=10)
    """
    grid = image_grid(images, columns=columns, value_range=value_range)
    picture = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    if scale > 1:
        picture = picture.resize(
            (picture.width * scale, picture.height * scale), Image.Resampling.NEAREST
        )
    return atomic_write(path, lambda target: picture.save(target, format="PNG"))


def makes_images(model):
    """Whether `model` generates images: it has `generate` and one sample is `[h, w, c]`."""
    return hasattr(model, "generate") and len(getattr(model, "sample_shape", ())) == 3


def save_sample_grid(model, path, num=100, labels=None, seed=0, scale=2, refine=None):
    """Writes a PNG grid of `num` samples of an image generator, atomically: kgan's one rule
    for a model's picture (`kgan sample`, the grid of a training run, a preset's card).

    Args:
        model: a trained image generator (`makes_images(model)`).
        path: where to write the PNG.
        num: the number of samples.
        labels: the classes of a conditional model, one row per class (all its classes when
            None); must be None for an unconditional one.
        seed: the latents' seed (`kgan.sampling`).
        scale: integer upscaling factor (nearest neighbour).
        refine: latent steps towards higher discriminator scores first
            (`kgan.models.discriminator_latent_refinement`), or None.

    Returns:
        The path written.

    Raises:
        ValueError: a model that does not generate images, labels outside the model's
            classes, or labels for an unconditional model.
    """
    if not makes_images(model):
        raise ValueError(
            f"{type(model).__name__} does not generate images (it needs generate() and an "
            "image sample_shape); pass an image generator such as a GAN trained on images"
        )
    columns = None
    if model.conditional:
        labels = labels if labels is not None else list(range(model.num_classes))
        bad = [label for label in labels if not 0 <= label < model.num_classes]
        if bad:
            raise ValueError(
                f"labels {bad} are outside the model's classes 0-{model.num_classes - 1}"
            )
        columns = -(-num // len(labels))
        labels = np.repeat(np.asarray(labels, "int32"), columns)[:num]
    elif labels is not None:
        raise ValueError("this model is unconditional: drop the labels")
    labels = {"labels": labels} if model.conditional else {}
    if refine:
        from kgan.models import discriminator_latent_refinement

        images = discriminator_latent_refinement(
            model, num_samples=num, seed=seed, steps=refine, **labels
        )
    else:
        images = model.generate(num_samples=num, seed=seed, **labels)
    return save_image_grid(images, path, columns=columns, scale=scale)
