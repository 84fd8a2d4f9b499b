"""Builds a trainer with its default networks from a name and the data's shape."""

from kgan import networks
from kgan.models.gan import GAN, WGANGP, ConditionalGAN
from kgan.models.vae import VAE
from kgan.models.vaegan import VAEGAN

TRAINERS = {"gan": GAN, "cgan": ConditionalGAN, "wgan_gp": WGANGP}


def build_trainer(
    name,
    shape,
    num_classes=None,
    latent_dim=None,
    width=None,
    d_width=None,
    spectral_norm=False,
    dropout=0.0,
    synchronized_batch_norm=False,
    **trainer_kwargs,
):
    """Builds a trainer and its networks for data of a given shape.

    Image data (`shape` of rank 3) gets the DCGAN-style networks, vector data (rank 1) the MLPs.

    Args:
        name: `"gan"`, `"cgan"` or `"wgan_gp"`.
        shape: per-example shape, e.g. `(28, 28, 1)` or `(2,)`.
        num_classes: number of classes; required by `"cgan"`.
        latent_dim: latent size; 64 for images, 2 for vectors when None.
        width: the generator's width (`width` of the DCGAN builders, 32 when None; the MLPs'
            hidden units, 128 when None).
        d_width: the discriminator's width; when None, `width` for images and twice the
            generator's for vectors (a wide discriminator resolves the tight modes of the 2-D
            mixtures, see benchmarks/mode_coverage.py).
        spectral_norm: spectral normalization in the discriminator.
        dropout: dropout before the discriminator's head (images only).
        synchronized_batch_norm: batch statistics of the image generator over the global batch
            under a `tf.distribute` strategy (see `kgan.networks.dcgan_generator`).
        **trainer_kwargs: passed to the trainer (`loss`, `d_steps`, `r1`, `seed`, ...); with
            `pack` the discriminator is built for packed samples.

    Returns:
        An uncompiled trainer.

    Example:
        >>> cgan = kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10)
    """
    if name not in TRAINERS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(TRAINERS)}")
    trainer_cls = TRAINERS[name]
    if trainer_cls.conditional and num_classes is None:
        raise ValueError(
            f"model {name!r} is conditional: pass num_classes (the data has no labels?)"
        )
    classes = num_classes if trainer_cls.conditional else None
    shape = tuple(shape)
    pack = trainer_kwargs.get("pack", 1)
    # The trainer reports bad values, and a pack on a conditional model.
    pack = pack if isinstance(pack, int) and pack >= 1 and classes is None else 1
    d_shape = (*shape[:-1], shape[-1] * pack) if shape else shape
    if len(shape) == 3:
        # Small enough to train on two CPU cores in minutes (see benchmarks/cgan_mnist.py).
        latent_dim = latent_dim or 64
        width = width or 32
        generator = networks.dcgan_generator(
            shape,
            latent_dim,
            classes,
            width=width,
            synchronized_batch_norm=synchronized_batch_norm,
        )
        discriminator = networks.dcgan_discriminator(
            d_shape, classes, width=d_width or width, spectral_norm=spectral_norm, dropout=dropout
        )
    elif len(shape) == 1:
        latent_dim = latent_dim or 2
        width = width or 128
        d_units = (d_width or 2 * width,) * 3
        generator = networks.mlp_generator(shape[0], latent_dim, classes, hidden_units=(width,) * 3)
        discriminator = networks.mlp_discriminator(
            d_shape[0], classes, hidden_units=d_units, spectral_norm=spectral_norm
        )
    else:
        raise ValueError(
            f"shape must be (height, width, channels) for images or (dim,) for vectors; got {shape}"
        )
    return trainer_cls(generator, discriminator, **trainer_kwargs)


def build_vae(shape, latent_dim=None, likelihood=None, prior="normal", width=None, **vae_kwargs):
    """Builds a `kgan.models.VAE` and its networks for data of a given shape.

    Image data (`shape` of rank 3) gets the convolutional encoder and decoder, vector data
    (rank 1) the MLPs (see `kgan.networks.vae_encoder`).

    Args:
        shape: per-example shape, e.g. `(28, 28, 1)` or `(2,)`.
        latent_dim: latent size; 16 for images, 2 for vectors when None.
        likelihood: `"bernoulli"`, `"gaussian"` or `"laplace"`; when None, Bernoulli for images
            and Gaussian for vectors.
        prior: `"normal"` or `"mixture"`.
        width: the networks' width (`width` of the convolutional builders, 32 when None; the
            MLPs' two hidden layers, 256 units each when None).
        **vae_kwargs: passed to the VAE (`scale`, `num_components`, `beta`, `kl`, `seed`, ...).

    Returns:
        An uncompiled VAE.

    Example:
        >>> vae = kgan.models.build_vae((28, 28, 1), latent_dim=16, seed=0)
    """
    shape = tuple(shape)
    if len(shape) == 3:
        latent_dim = latent_dim or 16
        likelihood = likelihood or "bernoulli"
        sizes = {"width": width or 32}
    elif len(shape) == 1:
        latent_dim = latent_dim or 2
        likelihood = likelihood or "gaussian"
        sizes = {"hidden_units": (width or 256,) * 2}
    else:
        raise ValueError(
            f"shape must be (height, width, channels) for images or (dim,) for vectors; got {shape}"
        )
    encoder = networks.vae_encoder(shape, latent_dim, **sizes)
    decoder = networks.vae_decoder(shape, latent_dim, **sizes)
    return VAE(encoder, decoder, likelihood=likelihood, prior=prior, **vae_kwargs)


def build_vaegan(
    shape,
    latent_dim=None,
    width=None,
    d_width=None,
    synchronized_batch_norm=False,
    **vaegan_kwargs,
):
    """Builds a `kgan.models.VAEGAN` and its networks for images of a given shape.

    The encoder is `kgan.networks.vae_encoder`, the decoder `kgan.networks.dcgan_generator`
    (tanh images in [-1, 1]) and the discriminator `kgan.networks.dcgan_discriminator`.

    Args:
        shape: per-image shape `(height, width, channels)`, sides divisible by 4.
        latent_dim: latent size; 32 when None.
        width: the encoder's and decoder's width (`width` of their builders), 32 when None.
        d_width: the discriminator's width; `width` when None.
        synchronized_batch_norm: batch statistics of the decoder over the global batch under a
            `tf.distribute` strategy (see `kgan.networks.dcgan_generator`).
        **vaegan_kwargs: passed to the VAEGAN (`feature_layer`, `loss`, `gamma`, `beta`,
            `seed`, ...).

    Returns:
        An uncompiled VAEGAN.

    Example:
        >>> vaegan = kgan.models.build_vaegan((28, 28, 1), latent_dim=32, seed=0)
    """
    shape = tuple(shape)
    if len(shape) != 3:
        raise ValueError(
            f"VAEGAN works on images: shape must be (height, width, channels); got {shape}"
        )
    latent_dim = latent_dim or 32
    width = width or 32
    encoder = networks.vae_encoder(shape, latent_dim, width=width)
    decoder = networks.dcgan_generator(
        shape,
        latent_dim,
        width=width,
        synchronized_batch_norm=synchronized_batch_norm,
        name="decoder",
    )
    discriminator = networks.dcgan_discriminator(shape, width=d_width or width)
    return VAEGAN(encoder, decoder, discriminator, **vaegan_kwargs)
