"""ClusterGAN (Mukherjee et al. 2019): a GAN whose latents are a discrete cluster code and a
small continuous noise, with an encoder trained to invert the generator, so the clusters of
unlabelled data come out as codes."""

import numbers

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kgan import networks, sampling
from kgan.models.base import register_trainer
from kgan.models.gan import GAN, GANInferenceModule


@register_trainer("clustergan")
class ClusterGAN(GAN):
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
    inference_names = ("generate", "encode", "cluster")
    # The latent size is `noise_dim + num_clusters`, so `latent_dim` is not an option.
    build_options = (
        *(option for option in GAN.build_options if option != "latent_dim"),
        "num_clusters",
        "noise_dim",
        "sigma",
        "beta_n",
        "beta_c",
        "e_width",
    )
    latent_distribution = "clustergan"

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
        if not isinstance(encoder, keras.Model):
            raise ValueError(
                "encoder must be a keras.Model (build one with kgan.networks.code_encoder); got "
                f"{type(encoder).__name__}"
            )
        if isinstance(num_clusters, bool) or not isinstance(num_clusters, numbers.Integral):
            raise ValueError(f"num_clusters must be an int >= 2; got {num_clusters!r}")
        if not 2 <= num_clusters < self.latent_dim:
            raise ValueError(
                f"num_clusters must be >= 2 and below the generator's latent size "
                f"{self.latent_dim} (noise and code share it); got {num_clusters}"
            )
        for argument, value in (("sigma", sigma), ("beta_n", beta_n), ("beta_c", beta_c)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
                raise ValueError(f"{argument} must be a float >= 0; got {value!r}")
        if tuple(encoder.inputs[0].shape[1:]) != self.sample_shape:
            raise ValueError(
                f"the generator makes samples of shape {self.sample_shape} but the encoder takes "
                f"{tuple(encoder.inputs[0].shape[1:])}; build them for the same data"
            )
        if tuple(encoder.outputs[0].shape[1:]) != (self.latent_dim,):
            raise ValueError(
                f"the encoder must return codes of the generator's latent size, "
                f"(batch, {self.latent_dim}); it returns {tuple(encoder.outputs[0].shape)}"
            )
        self.encoder = encoder
        self.num_clusters = int(num_clusters)
        self.noise_dim = self.latent_dim - self.num_clusters
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
        if noise_dim is None:
            noise_dim = 30 if len(shape) == 3 else 2
        if not isinstance(noise_dim, int) or noise_dim < 1:
            raise ValueError(f"noise_dim must be an int >= 1; got {noise_dim!r}")
        code_dim = noise_dim + num_clusters
        gan = GAN.from_shape(
            shape,
            latent_dim=code_dim,
            width=width,
            d_width=d_width,
            spectral_norm=spectral_norm,
            dropout=dropout,
            synchronized_batch_norm=synchronized_batch_norm,
            pack=options.get("pack", 1),
        )
        images = len(shape) == 3
        e_width = e_width or d_width or (width or 32 if images else 2 * (width or 128))
        encoder = networks.code_encoder(
            shape,
            code_dim,
            width=e_width,
            hidden_units=(16 * e_width,) if images else (e_width, e_width),
        )
        return cls(gan.generator, gan.discriminator, encoder, num_clusters=num_clusters, **options)

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

    def _step_latents(self, layout):
        noise = layout.normal((self.noise_dim,), self.seed_generator) * self.sigma
        codes = ops.cast(
            ops.floor(layout.uniform((), self.seed_generator) * self.num_clusters), "int32"
        )
        codes = ops.minimum(codes, self.num_clusters - 1)  # [local]
        return ops.concatenate([noise, ops.one_hot(codes, self.num_clusters)], axis=1)

    def _generator_variables(self):
        return self.generator.trainable_variables + self.encoder.trainable_variables

    def _extra_generator_losses(self, latents, fake):
        code = ops.cast(self.encoder(fake, training=True), "float32")  # [batch, latent_dim]
        noise_error = ops.mean(ops.square(code[:, : self.noise_dim] - latents[:, : self.noise_dim]))
        code_error = ops.mean(
            keras.losses.categorical_crossentropy(
                latents[:, self.noise_dim :], code[:, self.noise_dim :], from_logits=True
            )
        )
        return {"latent_loss": (1.0, self.beta_n * noise_error + self.beta_c * code_error)}

    # Generation and inference -------------------------------------------------------------

    def cluster_latents(self, num_samples=None, clusters=None, seed=None):
        """Latents `[n, latent_dim]` of chosen clusters, drawn as the step draws them.

        The noise follows the sampling contract (`numpy.random.default_rng(seed)`, scaled by
        `sigma`); clusters cycle `0, 1, ..., num_clusters - 1, 0, ...` when omitted.

        Args:
            num_samples: how many; inferred from `clusters` when omitted.
            clusters: `[n]` ints in `[0, num_clusters)`, or one int for every latent.
            seed: int seed of the noise.

        Returns:
            A float32 numpy array.
        """
        noise, clusters = sampling.generation_inputs(
            num_samples,
            None,
            clusters,
            seed,
            latent_dim=self.noise_dim,
            num_classes=self.num_clusters,
            who=type(self).__name__,
            labels_name="clusters",
        )
        onehot = np.eye(self.num_clusters, dtype="float32")[clusters]
        return np.concatenate([self.sigma * noise, onehot], axis=1)

    def _draw_latents(self, num_samples, seed):
        return self.cluster_latents(num_samples, None, seed)

    def generate(
        self, num_samples=None, latents=None, clusters=None, seed=None, batch_size=256, labels=None
    ):
        """Generates samples; `clusters` picks the discovered category of each.

        Args:
            num_samples: how many samples; inferred from `latents` or `clusters` when omitted.
            latents: `[n, latent_dim]` latents; drawn by `cluster_latents` when omitted.
            clusters: `[n]` ints in `[0, num_clusters)` or one int (with `latents` omitted).
            seed: int seed of the noise.
            batch_size: samples per generator call.
            labels: not taken (the model is unconditional); use `clusters`.

        Returns:
            A numpy array `[n, *sample_shape]` of float32.

        Example:
            >>> grid = model.generate(clusters=np.repeat(np.arange(10), 8), seed=0)
        """
        if latents is not None and clusters is not None:
            raise ValueError("pass clusters or latents, not both (latents hold their cluster)")
        if latents is None and (clusters is not None or num_samples is not None):
            latents = self.cluster_latents(num_samples, clusters, seed)
        return super().generate(num_samples, latents, labels, seed, batch_size)

    def _code(self, x, batch_size):
        x = np.asarray(x)
        if x.ndim != len(self.sample_shape) + 1 or tuple(x.shape[1:]) != self.sample_shape:
            raise ValueError(
                f"x must have shape (n, {', '.join(map(str, self.sample_shape))}); got {x.shape}"
            )
        if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
            raise ValueError(
                f"x must hold finite floats (images in [-1, 1], as kgan.data gives them); got "
                f"{x.dtype}"
            )
        encode = self.__dict__.get("_encode_traced")
        if encode is None:
            encode = tf.function(lambda v: self.encoder(v, training=False), reduce_retracing=True)
            object.__setattr__(self, "_encode_traced", encode)
        x = x.astype("float32")
        parts = [np.asarray(encode(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
        if not parts:
            return np.zeros((0, self.latent_dim), "float32")
        return np.concatenate(parts).astype("float32")

    def encode(self, x, batch_size=256):
        """The encoder's code of each example: `[n, noise_dim + num_clusters]` float32, the
        noise estimate, then the cluster logits (the features `kgan.cluster` and 1-NN use)."""
        return self._code(x, batch_size)

    def cluster_probabilities(self, x, batch_size=256):
        """`[n, num_clusters]`: the softmax of the encoder's cluster logits."""
        logits = self._code(x, batch_size)[:, self.noise_dim :].astype("float64")
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def cluster(self, x, batch_size=256):
        """`[n]` int64 cluster ids: the argmax of the encoder's cluster logits."""
        return np.argmax(self._code(x, batch_size)[:, self.noise_dim :], axis=1)

    # Export -------------------------------------------------------------------------------

    def inference_module(self):
        """A `tf.Module` serving `generate(z)`, `encode(x)` and `cluster(x)` (see
        `ClusterGANInferenceModule`)."""
        return ClusterGANInferenceModule(self)


class ClusterGANInferenceModule(GANInferenceModule):
    """A trained ClusterGAN's generator and encoder and the functions that export them.

    `generate(z)` as for `kgan.GAN` (`z` from `ClusterGAN.cluster_latents`), `encode(x)`
    (`[None, *shape]` float32 -> codes `[None, latent_dim]`) and `cluster(x)` (-> int32
    `[None]`). There is no `sample` signature: its latents would be N(0, I).
    """

    def __init__(self, model):
        super().__init__(model)
        self.encoder = model.encoder
        self.encoder_variables = [v.value for v in model.encoder.weights]
        x_spec = tf.TensorSpec([None, *model.sample_shape], tf.float32, name="x")
        noise_dim = model.noise_dim
        self.encode = tf.function(
            lambda x: tf.cast(self.encoder(x, training=False), tf.float32), input_signature=[x_spec]
        )
        self.cluster = tf.function(
            lambda x: tf.argmax(
                self.encoder(x, training=False)[:, noise_dim:], axis=1, output_type=tf.int32
            ),
            input_signature=[x_spec],
        )

    def signatures(self):
        """`{"generate", "encode", "cluster"}` -> traced functions."""
        return {"generate": self.generate, "encode": self.encode, "cluster": self.cluster}
