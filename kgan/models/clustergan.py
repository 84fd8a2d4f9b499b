"""ClusterGAN (Mukherjee et al. 2019): a GAN whose latents are a discrete cluster code and a
small continuous noise, with an encoder trained to invert the generator, so the clusters of
unlabelled data come out as codes."""

import keras
from keras import ops

from kgan import networks
from kgan.models.base import check_encoder, check_non_negative, register_trainer
from kgan.models.gan import GAN
from kgan.models.gan.codes import CodeGAN


@register_trainer("clustergan")
class ClusterGAN(CodeGAN):
    """ClusterGAN: clustering in the latent space of a GAN, without labels.

    The latent is `z = [sigma * n, onehot(c)]` with `n ~ N(0, I_noise_dim)` and `c` uniform over
    `num_clusters` codes, so the generator's latent space is a mixture of well-separated
    components, one per code. An encoder `E` maps data back to `[noise_dim + num_clusters]`:
    an estimate of `n` (scaled by `sigma`) and the logits of `c`. `E` is trained with the
    generator on `beta_n * MSE(z_n, E(G(z))_n) + beta_c * CE(c, E(G(z))_c)` (the paper's
    weights 10 and 10), added to the generator's adversarial loss; the discriminator trains as
    in `kgan.GAN`, with any of its losses and regularizers (the paper uses WGAN-GP for MNIST:
    `loss="wasserstein", gradient_penalty=10, d_steps=5`). A data point's cluster is the argmax
    of `E`'s code logits.

    Args:
        generator: a `keras.Model` from latents `[batch, noise_dim + num_clusters]` to samples.
        discriminator: a `keras.Model` from samples to logits `[batch, 1]`.
        encoder: a `keras.Model` from samples to codes `[batch, noise_dim + num_clusters]`
            (see `kgan.networks.code_encoder`).
        num_clusters: `K`, the number of discrete codes (>= 2).
        sigma: the scale of the continuous noise (0.1 in the paper).
        beta_n: weight of the noise reconstruction's mean squared error.
        beta_c: weight of the code's cross-entropy.
        **kwargs: passed to `kgan.GAN` (`loss`, `d_steps`, `gradient_penalty`, `r1`, `seed`,
            `ema_decay`, `augment`, `pack`, `name`, ...).

    Example:
        >>> model = kgan.models.build_trainer("clustergan", (28, 28, 1), num_clusters=10, seed=0)
        >>> model.compile()
        >>> model.fit(kgan.data.load("mnist_5k"), epochs=30)
        >>> clusters = model.cluster(x)            # [n] ints in [0, 10)
        >>> sevens_like = model.generate(clusters=[3] * 8, seed=0)
    """

    network_names = ("discriminator", "generator", "encoder")
    loss_owners = (*GAN.loss_owners, ("latent_loss", "generator and encoder"))
    build_options = (
        *CodeGAN.build_options,
        "sigma",
        "beta_n",
        "beta_c",
        "e_width",
    )

    def __init__(
        self,
        generator,
        discriminator,
        encoder,
        num_clusters=10,
        sigma=0.1,
        beta_n=10.0,
        beta_c=10.0,
        **kwargs,
    ):
        super().__init__(generator, discriminator, **kwargs)
        check_encoder(encoder, self.sample_shape, self.latent_dim)
        check_non_negative(sigma=sigma, beta_n=beta_n, beta_c=beta_c)
        self._set_codes(num_clusters, 0, noise_scale=sigma)
        self.encoder = encoder
        self.sigma = float(sigma)
        self.beta_n = float(beta_n)
        self.beta_c = float(beta_c)
        self.latent_loss_tracker = keras.metrics.Mean(name="latent_loss")
        self._extra_trackers = (self.latent_loss_tracker,)

    @classmethod
    def from_shape(
        cls,
        shape,
        num_classes=None,
        num_clusters=10,
        noise_dim=None,
        width=None,
        d_width=None,
        e_width=None,
        spectral_norm=False,
        dropout=0.0,
        synchronized_batch_norm=False,
        **options,
    ):
        """Builds a ClusterGAN and its networks for data of a given shape.

        Images get the DCGAN-style generator and discriminator of `kgan.GAN.from_shape` and
        `kgan.networks.code_encoder` (one dense layer of `16 * e_width` units); vectors the
        MLPs.

        Args:
            shape: per-example shape, e.g. `(28, 28, 1)` or `(2,)`.
            num_classes: ignored: the model learns without labels (set `num_clusters`).
            num_clusters: the number of discrete codes, 10 by default.
            noise_dim: the continuous noise's size; 30 for images (the paper's), 2 for
                vectors when None.
            width: the generator's width (32 for images, 128 units for vectors when None).
            d_width: the discriminator's width (`width` for images, twice it for vectors).
            e_width: the encoder's width (`d_width` when None).
            spectral_norm: spectral normalization in the discriminator.
            dropout: dropout before the discriminator's head (images only).
            synchronized_batch_norm: see `kgan.GAN.from_shape`.
            **options: passed to the trainer (`sigma`, `beta_n`, `beta_c`, `loss`, `seed`...).

        Returns:
            An uncompiled ClusterGAN.

        Example:
            >>> model = kgan.models.ClusterGAN.from_shape((28, 28, 1), num_clusters=10, seed=0)
        """
        cls.check_build_options(options)
        shape = tuple(shape)
        generator, discriminator, noise_dim = cls._networks(
            shape,
            noise_dim,
            30,
            num_clusters,
            width=width,
            d_width=d_width,
            spectral_norm=spectral_norm,
            dropout=dropout,
            synchronized_batch_norm=synchronized_batch_norm,
            pack=options.get("pack", 1),
        )
        code_dim = noise_dim + num_clusters
        images = len(shape) == 3
        e_width = e_width or d_width or (width or 32 if images else 2 * (width or 128))
        encoder = networks.code_encoder(
            shape,
            code_dim,
            width=e_width,
            hidden_units=(16 * e_width,) if images else (e_width, e_width),
        )
        return cls(generator, discriminator, encoder, num_clusters=num_clusters, **options)

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_clusters": self.num_clusters,
            "sigma": self.sigma,
            "beta_n": self.beta_n,
            "beta_c": self.beta_c,
        }

    # The step -----------------------------------------------------------------------------

    def _generator_variables(self):
        return self.generator.trainable_variables + self.encoder.trainable_variables

    def _extra_generator_losses(self, latents, fake):
        noise, onehot, _ = self._split_latents(latents)
        logits, _, code = self._read_codes(fake, training=True)  # code: [batch, latent_dim]
        noise_error = ops.mean(ops.square(code[:, : self.noise_dim] - noise))
        code_error = ops.mean(
            keras.losses.categorical_crossentropy(onehot, logits, from_logits=True)
        )
        return {"latent_loss": (1.0, self.beta_n * noise_error + self.beta_c * code_error)}

    # The code network ---------------------------------------------------------------------

    def _read_codes(self, x, training=False):
        """The encoder's output: the noise estimate, then the cluster logits; the features
        `encode` gives are the whole code `[n, noise_dim + num_clusters]`."""
        code = ops.cast(self.encoder(x, training=training), "float32")
        return code[:, self.noise_dim :], code[:, self.noise_dim : self.noise_dim], code

    def _code_network_variables(self):
        return self.encoder.weights
