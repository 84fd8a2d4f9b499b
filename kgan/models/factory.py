"""Builds any registered trainer with its default networks from a name and the data's shape."""

from kgan.models.base import get_trainer


def build_trainer(name, shape, num_classes=None, **options):
    """Builds a registered trainer and its networks for data of a given shape.

    Args:
        name: a registered name (`kgan.models.list_trainers()`), kgan's own or one
            registered with `kgan.models.register_trainer`.
        shape: per-example shape, e.g. `(28, 28, 1)` or `(2,)`.
        num_classes: the data's number of classes; conditional trainers need it, the others
            ignore it.
        **options: the trainer's `build_options` (see its `from_shape`), e.g. `latent_dim`,
            `width`, `loss`, `seed`.

    Returns:
        An uncompiled trainer.

    Example:
        >>> cgan = kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10)
        >>> vae = kgan.models.build_trainer("vae", (28, 28, 1), latent_dim=16, seed=0)
    """
    return get_trainer(name).from_shape(tuple(shape), num_classes=num_classes, **options)


def build_vae(shape, latent_dim=None, likelihood=None, prior="normal", width=None, **options):
    """`build_trainer("vae", shape, ...)`; see `kgan.models.VAE.from_shape`."""
    return build_trainer(
        "vae",
        shape,
        latent_dim=latent_dim,
        likelihood=likelihood,
        prior=prior,
        width=width,
        **options,
    )


def build_vaegan(shape, **options):
    """`build_trainer("vaegan", shape, ...)`; see `kgan.models.VAEGAN.from_shape`."""
    return build_trainer("vaegan", shape, **options)
