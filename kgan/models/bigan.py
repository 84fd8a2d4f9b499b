"""BiGAN (Donahue et al. 2017) / ALI (Dumoulin et al. 2017): a GAN that learns an encoder with
its generator, adversarially, so that data get continuous codes without labels."""

import numbers

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kgan import networks, sampling
from kgan.models.base import check_encoder, register_trainer
from kgan.models.ex_post import ExPostDensityMixin, stateless_ex_post_latents
from kgan.models.gan import GAN
from kgan.models.gan.inference import GANInferenceModule
from kgan.models.gan.trainers import default_networks

# The step's options that act on the discriminator's view of single samples; a discriminator
# of (data, latent) pairs takes none of them.
_UNSUPPORTED = {
    "gradient_penalty": 0.0,
    "r1": 0.0,
    "augment": None,
    "pack": 1,
    "top_k": None,
}


@register_trainer("bigan")
class BiGAN(ExPostDensityMixin, GAN):
    """BiGAN: a generator `G(z)`, an encoder `E(x)` and a discriminator of pairs.

    The discriminator tells data paired with its code, `(x, E(x))`, from samples paired with
    their latents, `(G(z), z)`, `z ~ N(0, I)`; the generator and the encoder are trained
    together on the same loss with the roles of the pairs swapped. At the optimum `E` inverts
    `G`, so `encode(x)` gives features learned without labels (dimensionality reduction, 1-NN,
    clustering). The adversarial loss is any of the shared step's (`loss`), with `d_steps`,
    `ema_decay` and `seed` as in `kgan.GAN`; the regularizers and views of single samples
    (`gradient_penalty`, `r1`, `augment`, `pack`, `top_k`) are refused.

    Clusters: `fit_clusters(x)` fits a `kgan.mixture.GaussianMixture` of `num_clusters` full-
    covariance components on the encoder's features of `x`; it is kept in the model's weights
    (saved, exported), and `cluster(x)` is its most probable component.

    Args:
        generator: a `keras.Model` from latents `[batch, latent_dim]` to samples.
        discriminator: a `keras.Model` from `[samples, latents]` to logits `[batch, 1]` (see
            `kgan.networks.joint_discriminator`).
        encoder: a `keras.Model` from samples to `[batch, latent_dim]` (see
            `kgan.networks.code_encoder`).
        num_clusters: components of the mixture `fit_clusters` fits (>= 2).
        sampling: where `generate` draws latents from when none are given: `"prior"`
            (N(0, I)) or `"ex_post"` (the fitted mixture of the encoder's codes, see
            `kgan.models.ex_post`; `fit_ex_post(x)` fits it and sets this).
        **kwargs: passed to `kgan.GAN` (`loss`, `d_steps`, `seed`, `ema_decay`, `name`).

    Example:
        >>> model = kgan.models.build_trainer("bigan", (28, 28, 1), seed=0)
        >>> model.compile()
        >>> model.fit(kgan.data.load("mnist_5k"), epochs=30)
        >>> features = model.encode(x)          # [n, 50]
        >>> clusters = model.fit_clusters(x).cluster(x)
    """

    network_names = ("discriminator", "generator", "encoder")
    loss_owners = (("d_loss", "discriminator"), ("g_loss", "generator and encoder"))
    inference_names = ("generate", "sample", "encode", "cluster")
    build_options = (
        *(
            option
            for option in GAN.build_options
            if option not in _UNSUPPORTED and option not in ("r1_interval", "top_k_decay")
        ),
        "num_clusters",
        "e_width",
    )

    def __init__(
        self, generator, discriminator, encoder, num_clusters=10, sampling="prior", **kwargs
    ):
        for option, default in _UNSUPPORTED.items():
            if kwargs.get(option, default) != default and kwargs.get(option) is not None:
                raise ValueError(
                    f"BiGAN's discriminator judges (data, latent) pairs: {option} is not "
                    f"supported; drop it (got {kwargs[option]!r})"
                )
        super().__init__(generator, discriminator, **kwargs)
        check_encoder(encoder, self.sample_shape, self.latent_dim)
        if tuple(discriminator.inputs[1].shape[1:]) != (self.latent_dim,):
            raise ValueError(
                f"the discriminator's second input must take latents (batch, {self.latent_dim}); "
                f"it takes {tuple(discriminator.inputs[1].shape)}"
            )
        if (
            isinstance(num_clusters, bool)
            or not isinstance(num_clusters, numbers.Integral)
            or num_clusters < 2
        ):
            raise ValueError(f"num_clusters must be an int >= 2; got {num_clusters!r}")
        self.encoder = encoder
        self.num_clusters = int(num_clusters)
        # The clusters are the components of the ex-post mixture of the encoder's codes.
        self._init_ex_post(self.num_clusters, sampling)

    def _check_conditioning(self, generator, discriminator):
        g_in, d_in = len(generator.inputs), len(discriminator.inputs)
        if g_in != 1 or d_in != 2:
            raise ValueError(
                "BiGAN takes a generator of one input (latents) and a discriminator of two "
                "(data, latents; build it with kgan.networks.joint_discriminator); got "
                f"{g_in} and {d_in}"
            )

    @classmethod
    def from_shape(
        cls,
        shape,
        num_classes=None,
        latent_dim=None,
        width=None,
        d_width=None,
        e_width=None,
        spectral_norm=False,
        dropout=0.2,
        synchronized_batch_norm=False,
        num_clusters=10,
        **options,
    ):
        """Builds a BiGAN and its networks for data of a given shape.

        Images get `kgan.GAN.from_shape`'s DCGAN-style generator, `kgan.networks.code_encoder`
        (one dense layer of `16 * e_width` units) and `kgan.networks.joint_discriminator`;
        vectors the MLP generator and dense encoder and discriminator.

        Args:
            shape: per-example shape, e.g. `(28, 28, 1)` or `(2,)`.
            num_classes: ignored: the model learns without labels.
            latent_dim: latent size; 50 for images (the paper's MNIST), 2 for vectors when
                None.
            width: the generator's width (32 for images, 128 units for vectors when None).
            d_width: the discriminator's width (`width` for images, twice it for vectors).
            e_width: the encoder's width (`d_width` when None).
            spectral_norm: spectral normalization in the discriminator.
            dropout: dropout before the discriminator's logit.
            synchronized_batch_norm: see `kgan.GAN.from_shape`.
            num_clusters: components of the mixture of `fit_clusters`.
            **options: passed to the trainer (`loss`, `d_steps`, `seed`, `ema_decay`).

        Returns:
            An uncompiled BiGAN.
        """
        cls.check_build_options(options)
        shape = tuple(shape)
        images = len(shape) == 3
        latent_dim = latent_dim or (50 if images else 2)
        generator, _ = default_networks(
            shape,
            latent_dim=latent_dim,
            width=width,
            synchronized_batch_norm=synchronized_batch_norm,
        )
        width = width or (32 if images else 128)
        d_width = d_width or (width if images else 2 * width)
        e_width = e_width or d_width
        discriminator = networks.joint_discriminator(
            shape,
            latent_dim,
            width=d_width,
            hidden_units=16 * d_width if images else d_width,
            spectral_norm=spectral_norm,
            dropout=dropout,
        )
        encoder = networks.code_encoder(
            shape,
            latent_dim,
            width=e_width,
            hidden_units=(16 * e_width,) if images else (e_width, e_width),
        )
        return cls(generator, discriminator, encoder, num_clusters=num_clusters, **options)

    def get_config(self):
        config = {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_clusters": self.num_clusters,
            "sampling": self.sampling,
        }
        for option in (*_UNSUPPORTED, "r1_interval", "top_k_decay"):
            config.pop(option, None)
        return config

    # The step -----------------------------------------------------------------------------

    def _pair_logits(self, real, codes, fake, latents):
        """Logits of `(real, codes)` and `(fake, latents)`; one call when no layer mixes a
        batch."""
        if self._batch_dependent_discriminator:
            return (
                self.discriminator([real, codes], training=True),
                self.discriminator([fake, latents], training=True),
            )
        logits = self.discriminator(
            [ops.concatenate([real, fake], axis=0), ops.concatenate([codes, latents], axis=0)],
            training=True,
        )
        n = ops.shape(real)[0]
        return logits[:n], logits[n:]

    def _d_gradients(self, real, labels, latents, alpha, weight):
        fake = ops.stop_gradient(self._generate(latents, None, training=True))
        codes = ops.stop_gradient(ops.cast(self.encoder(real, training=True), fake.dtype))
        with tf.GradientTape() as tape:
            d_loss = self.d_loss_fn(*self._pair_logits(real, codes, fake, latents))
            scaled = self.d_optimizer.scale_loss(d_loss * weight)
        return d_loss, None, tape.gradient(scaled, self._discriminator_variables())

    def _generator_variables(self):
        return self.generator.trainable_variables + self.encoder.trainable_variables

    def _g_gradients(self, real, labels, latents, weight):
        with tf.GradientTape() as tape:
            fake = self._generate(latents, None, training=True)
            codes = ops.cast(self.encoder(real, training=True), fake.dtype)
            real_logits, fake_logits = self._pair_logits(real, codes, fake, latents)
            # The discriminator's loss with the pairs' roles swapped (for the non-saturating
            # loss: -log D(G(z), z) - log(1 - D(x, E(x)))).
            g_loss = self.d_loss_fn(fake_logits, real_logits)
            scaled = self.g_optimizer.scale_loss(g_loss * weight)
        return g_loss, tape.gradient(scaled, self._generator_variables()), []

    # Encoding and clusters ----------------------------------------------------------------

    def encode(self, x, batch_size=256):
        """`[n, latent_dim]` float32: the encoder's code of each example.

        Example:
            >>> features = model.encode(x_test)
        """
        empty = np.zeros((0, self.latent_dim), "float32")
        return self._map_batches("_encode_traced", self._encode_graph, x, batch_size, empty)

    def _encode_graph(self, x):
        return ops.cast(self.encoder(x, training=False), "float32")

    def _cluster_graph(self, x):
        """Cluster ids of `x` in the graph; -1 everywhere before `fit_clusters`."""
        # tf.argmax, not keras.ops.argmax: the latter's NaN handling has no TFLite kernel.
        log_joint = self._ex_post_log_joint(self._encode_graph(x))
        ids = tf.argmax(log_joint, axis=1, output_type=tf.int32)
        return tf.where(self.ex_post_fitted > 0.5, ids, -tf.ones_like(ids))

    _ex_post_fit_name = "fit_clusters"

    def fit_clusters(self, x, batch_size=256, **mixture_options):
        """Fits the mixture that `cluster` uses on the encoder's features of `x` (the
        model's ex-post mixture, see `kgan.models.ex_post`; `sampling` is left as it is).

        Args:
            x: `[n, *shape]` float data (images in [-1, 1]), n >= `num_clusters`.
            batch_size: examples per encoder call.
            **mixture_options: passed to `kgan.mixture.GaussianMixture` (defaults: full
                covariance, `reg_covar=1e-4`, `n_init=3`, `random_state` the model's seed).

        Returns:
            self.

        Example:
            >>> clusters = model.fit_clusters(x).cluster(x)
        """
        return self.fit_ex_post(
            x, self.num_clusters, sampling=self.sampling, batch_size=batch_size, **mixture_options
        )

    def cluster_probabilities(self, x, batch_size=256):
        """`[n, num_clusters]`: each component's responsibility for the example's features."""
        self._require_ex_post("cluster_probabilities")

        def probabilities(v):
            return ops.softmax(self._ex_post_log_joint(self._encode_graph(v)), axis=1)

        empty = np.zeros((0, self.num_clusters), "float32")
        probabilities = self._map_batches(
            "_probabilities_traced", probabilities, x, batch_size, empty
        ).astype("float64")
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def cluster(self, x, batch_size=256):
        """`[n]` int64 cluster ids: the most probable component of the fitted mixture."""
        self._require_ex_post("cluster")
        empty = np.zeros(0, "int32")
        return self._map_batches(
            "_cluster_traced", self._cluster_graph, x, batch_size, empty
        ).astype("int64")

    def cluster_latents(self, num_samples=None, clusters=None, seed=None):
        """Latents `[n, latent_dim]` drawn from chosen components of the fitted mixture.

        The encoder inverts the generator, so the mixture fitted on the encoder's features is
        a density of latents too: the generator turns a draw of component `k` into a sample
        of cluster `k`. The standard normal draws follow the sampling contract
        (`numpy.random.default_rng(seed)`); clusters cycle `0, 1, ..., num_clusters - 1, 0, ...`
        when omitted.

        Args:
            num_samples: how many; inferred from `clusters` when omitted.
            clusters: `[n]` ints in `[0, num_clusters)`, or one int for every latent.
            seed: int seed of the draws.

        Returns:
            A float32 numpy array.
        """
        self._require_ex_post("cluster_latents")
        noise, clusters = sampling.generation_inputs(
            num_samples,
            None,
            clusters,
            seed,
            latent_dim=self.latent_dim,
            num_classes=self.num_clusters,
            who=type(self).__name__,
            labels_name="clusters",
        )
        return self._ex_post_transform(noise.astype("float64"), clusters)

    def generate(
        self, num_samples=None, latents=None, labels=None, seed=None, batch_size=256, clusters=None
    ):
        """Generates samples; with `clusters`, of chosen clusters (see `cluster_latents`).

        Args:
            num_samples: how many samples; inferred from `latents` or `clusters` when omitted.
            latents: `[n, latent_dim]` latents; drawn as `sampling` says when omitted (N(0, I)
                by the sampling contract, or from the ex-post mixture).
            labels: not taken (the model is unconditional); use `clusters`.
            seed: int seed of the latents.
            batch_size: samples per generator call.
            clusters: `[n]` ints in `[0, num_clusters)` or one int (after `fit_clusters`).

        Returns:
            A numpy array `[n, *sample_shape]` of float32.
        """
        if clusters is not None:
            if latents is not None:
                raise ValueError("pass clusters or latents, not both")
            latents = self.cluster_latents(num_samples, clusters, seed)
        return super().generate(num_samples, latents, labels, seed, batch_size)

    # Export -------------------------------------------------------------------------------

    def inference_module(self):
        """A `tf.Module` serving `generate(z)`, `sample(num_samples, seed)`, `encode(x)` and
        `cluster(x)` (see `BiGANInferenceModule`)."""
        return BiGANInferenceModule(self)


class BiGANInferenceModule(GANInferenceModule):
    """A trained BiGAN's generator, encoder and mixture, and the functions that export them.

    `generate(z)` and `sample(num_samples, seed)` as for `kgan.GAN` (with `sampling="ex_post"`,
    `sample` draws its latents from the mixture: `stateless_ex_post_latents`); `encode(x)`
    (`[None, *shape]` float32 -> `[None, latent_dim]`) and `cluster(x)` (-> int32 `[None]`, -1
    before `fit_clusters`).
    """

    def __init__(self, model):
        super().__init__(model)
        self.encoder_variables = [v.value for v in model.encoder.weights]
        self.mixture_variables = [
            v.value
            for v in (
                model.ex_post_log_weights,
                model.ex_post_means,
                model.ex_post_precisions_cholesky,
                model.ex_post_fitted,
            )
        ]
        self._ex_post = None
        if model.sampling == "ex_post":
            # The covariances' square roots, computed once here: the graph draws with them.
            _, _, roots = model._ex_post_arrays()
            self.ex_post_roots = tf.Variable(roots.astype("float32"), trainable=False)
            self._ex_post = (model.ex_post_log_weights.value, model.ex_post_means.value)
        x_spec = tf.TensorSpec([None, *model.sample_shape], tf.float32, name="x")
        self.encode = tf.function(model._encode_graph, input_signature=[x_spec])
        self.cluster = tf.function(model._cluster_graph, input_signature=[x_spec])

    def _sample(self, num_samples, seed):
        if self._ex_post is None:
            return super()._sample(num_samples, seed)
        log_weights, means = self._ex_post
        z = stateless_ex_post_latents(num_samples, seed, log_weights, means, self.ex_post_roots)
        return self._outputs(z, None)

    def signatures(self):
        """`{"generate", "sample", "encode", "cluster"}` -> traced functions."""
        return {**super().signatures(), "encode": self.encode, "cluster": self.cluster}
