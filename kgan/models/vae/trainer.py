"""The variational autoencoder trainer `VAE`."""

import numbers

import keras
from keras import ops

from kgan import networks
from kgan.models.base import check_non_negative, register_trainer
from kgan.models.encoder_decoder import EncoderDecoderTrainer
from kgan.models.vae.distributions import (
    KL_ESTIMATORS,
    LIKELIHOODS,
    PRIORS,
    VAEDistributionsMixin,
    inverse_softplus,
)
from kgan.models.vae.inference import VAEInferenceMixin
from kgan.models.vae.mixture_prior import MixturePriorMixin
from kgan.models.vae.training import VAETrainingMixin


@register_trainer("vae")
class VAE(
    VAEDistributionsMixin,
    VAETrainingMixin,
    VAEInferenceMixin,
    MixturePriorMixin,
    EncoderDecoderTrainer,
):
    """A variational autoencoder (Kingma & Welling 2014) trained with `model.fit`.

    The encoder maps data to `[batch, 2 * latent_dim]`: the location and the scale before a
    softplus of a diagonal Gaussian posterior q(z|x). The decoder maps latents to the raw
    parameters of the likelihood p(x|z). The step maximizes the ELBO
    `E_q[log p(x|z)] - beta * KL(q(z|x) || p(z))` with one reparameterized sample; the loss is
    its negative, summed over features and averaged over the batch.

    Data arrive as `kgan.data` gives them: images in [-1, 1] (labels, if any, are ignored) or
    float vectors. The Bernoulli likelihood models `(x + 1) / 2` in [0, 1] (binarized data, 0/1
    after that mapping, or grey levels, which enter its log-probability as soft targets); the
    Gaussian and Laplace likelihoods model `x` itself.

    Args:
        encoder: a `keras.Model` from `[batch, *shape]` to `[batch, 2 * latent_dim]` (see
            `kgan.networks.vae_encoder`).
        decoder: a `keras.Model` from `[batch, latent_dim]` to `[batch, *shape]`; for a Gaussian
            or Laplace likelihood with `scale="learned"` it may return
            `[batch, *shape[:-1], 2 * shape[-1]]` (locations, then raw scales) to learn a scale
            per value and example (`kgan.networks.vae_decoder(..., outputs_per_pixel=2)`).
        likelihood: `"bernoulli"`, `"gaussian"` or `"laplace"`.
        scale: for the Gaussian and Laplace likelihoods, `"learned"` (one trainable log-scale
            per feature, shared by all examples, unless the decoder returns its own scales) or a
            fixed positive float. The Bernoulli likelihood has no scale: leave `"learned"`.
        prior: `"normal"` (N(0, I)) or `"mixture"`, a learnable mixture of `num_components`
            diagonal Gaussians whose logits, means and scales are weights of the model.
        num_components: components of the mixture prior.
        beta: weight of the KL term (beta-VAE, Higgins et al. 2017); >= 0.
        kl: `"analytic"` (closed form, normal prior only), `"monte_carlo"`
            (`log q(z|x) - log p(z)` at the sampled z) or `"auto"` (analytic when it exists).
        seed: int seed of the noise the steps draw and of the mixture prior's initial means.
        ex_post_components: components of the ex-post mixture of the encoder's codes (see
            `kgan.models.ex_post`); None until `fit_ex_post` fits one.
        sampling: where `generate` draws latents from: `"prior"` or `"ex_post"` (the fitted
            mixture; Ghosh et al. 2020). Saved with the model.
        **kwargs: passed to `keras.Model` (e.g. `name`).

    Under a `tf.distribute` strategy (build and compile inside its scope) each replica trains
    on its share of the global batch and the update is the one a single device makes on the
    whole batch, with the same noise (see `kgan.distribute.ReplicaBatch`). Under the
    `"mixed_float16"` policy the optimizer is wrapped in a `keras.optimizers.LossScaleOptimizer`.

    Example:
        >>> encoder = kgan.networks.vae_encoder((28, 28, 1), latent_dim=16)
        >>> decoder = kgan.networks.vae_decoder((28, 28, 1), latent_dim=16)
        >>> vae = kgan.models.VAE(encoder, decoder, likelihood="bernoulli", seed=0)
        >>> vae.compile()
        >>> vae.fit(kgan.data.load("mnist_5k"), epochs=10)
        >>> images = vae.generate(16, seed=0)  # [16, 28, 28, 1] in [-1, 1]
        >>> log_px = vae.log_likelihood(x_test, num_samples=1000)  # [n] nats
    """

    network_names = ("encoder", "decoder")
    optimizer_names = ("optimizer",)
    loss_owners = (
        ("kl", "encoder"),
        ("reconstruction", "decoder"),
        ("loss", "encoder and decoder"),
    )
    build_options = (
        "latent_dim",
        "likelihood",
        "prior",
        "width",
        "scale",
        "num_components",
        "beta",
        "kl",
        "seed",
    )

    @property
    def latent_distribution(self):
        """`"normal"` for the N(0, I) prior, `"mixture"` for the learned mixture prior or
        ex-post sampling (`sampling="ex_post"`)."""
        return "normal" if self.prior == "normal" and not self._ex_post_active() else "mixture"

    @classmethod
    def from_shape(
        cls,
        shape,
        num_classes=None,
        latent_dim=None,
        likelihood=None,
        prior="normal",
        width=None,
        **options,
    ):
        """Builds a VAE and its networks for data of a given shape.

        Image data (`shape` of rank 3) gets the convolutional encoder and decoder, vector data
        (rank 1) the MLPs (see `kgan.networks.vae_encoder`).

        Args:
            shape: per-example shape, e.g. `(28, 28, 1)` or `(2,)`.
            num_classes: ignored (the VAE learns without labels).
            latent_dim: latent size; 16 for images, 2 for vectors when None.
            likelihood: `"bernoulli"`, `"gaussian"` or `"laplace"`; when None, Bernoulli for
                images and Gaussian for vectors.
            prior: `"normal"` or `"mixture"`.
            width: the networks' width (`width` of the convolutional builders, 32 when None;
                the MLPs' two hidden layers, 256 units each when None).
            **options: passed to the VAE (`scale`, `num_components`, `beta`, `kl`, `seed`).

        Returns:
            An uncompiled VAE.

        Example:
            >>> vae = kgan.models.VAE.from_shape((28, 28, 1), latent_dim=16, seed=0)
        """
        cls.check_build_options(options)
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
                "shape must be (height, width, channels) for images or (dim,) for vectors; got "
                f"{shape}"
            )
        encoder = networks.vae_encoder(shape, latent_dim, **sizes)
        decoder = networks.vae_decoder(shape, latent_dim, **sizes)
        return cls(encoder, decoder, likelihood=likelihood, prior=prior, **options)

    def __init__(
        self,
        encoder,
        decoder,
        likelihood="bernoulli",
        scale="learned",
        prior="normal",
        num_components=10,
        beta=1.0,
        kl="auto",
        seed=None,
        ex_post_components=None,
        sampling="prior",
        **kwargs,
    ):
        super().__init__(**kwargs)
        for network, role in ((encoder, "encoder"), (decoder, "decoder")):
            if not isinstance(network, keras.Model):
                raise ValueError(
                    f"{role} must be a keras.Model (build one with kgan.networks.vae_{role}); "
                    f"got {type(network).__name__}"
                )
            if len(network.inputs) != 1 or len(network.outputs) != 1:
                raise ValueError(
                    f"the {role} must have one input and one output; got {len(network.inputs)} "
                    f"and {len(network.outputs)}"
                )
        self._check_choices(likelihood, scale, prior, num_components, beta, kl)
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.scale = "learned" if scale == "learned" else float(scale)
        self.prior = prior
        self.num_components = int(num_components)
        self.beta = float(beta)
        self.kl = kl
        if kl == "auto":
            self.kl_estimator = "analytic" if prior == "normal" else "monte_carlo"
        else:
            self.kl_estimator = kl
        self.seed = seed
        self.data_shape = tuple(encoder.inputs[0].shape[1:])
        self.latent_dim = int(decoder.inputs[0].shape[-1])
        self.scale_from_decoder = self._check_networks(encoder, decoder)

        self.log_scale = None
        if likelihood != "bernoulli" and scale == "learned" and not self.scale_from_decoder:
            self.log_scale = self.add_weight(
                shape=self.data_shape, initializer="zeros", name="log_scale"
            )
        if prior == "mixture":
            k, d = self.num_components, self.latent_dim
            self.prior_logits = self.add_weight(
                shape=(k,), initializer="zeros", name="prior_logits"
            )
            # Spread-out starting means (about sqrt(2 d) apart), unit scales.
            self.prior_means = self.add_weight(
                shape=(k, d),
                initializer=keras.initializers.RandomNormal(stddev=1.0, seed=seed),
                name="prior_means",
            )
            self.prior_raw_scales = self.add_weight(
                shape=(k, d),
                initializer=keras.initializers.Constant(float(inverse_softplus(1.0))),
                name="prior_raw_scales",
            )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self._iwae_fn = None
        # The networks arrive built, so the trainer is too; this lets Keras save its own weights
        # (prior, log-scale) and the seed generator.
        self._init_ex_post(ex_post_components, sampling)
        self.built = True

    # Construction helpers -----------------------------------------------------------------

    @staticmethod
    def _check_choices(likelihood, scale, prior, num_components, beta, kl):
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}; got {likelihood!r}")
        if prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}; got {prior!r}")
        if kl not in KL_ESTIMATORS:
            raise ValueError(f"kl must be one of {KL_ESTIMATORS}; got {kl!r}")
        if kl == "analytic" and prior == "mixture":
            raise ValueError(
                "kl='analytic' needs the KL divergence in closed form, which does not exist for "
                "a Gaussian mixture prior; use kl='monte_carlo' (or 'auto') with prior='mixture'"
            )
        if scale != "learned":
            if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or scale <= 0:
                raise ValueError(f"scale must be 'learned' or a positive float; got {scale!r}")
            if likelihood == "bernoulli":
                raise ValueError(
                    "scale applies to the gaussian and laplace likelihoods; the bernoulli "
                    "likelihood has none: leave scale='learned'"
                )
        if isinstance(num_components, bool) or not isinstance(num_components, numbers.Integral):
            raise ValueError(f"num_components must be an int >= 1; got {num_components!r}")
        if num_components < 1:
            raise ValueError(f"num_components must be an int >= 1; got {num_components!r}")
        check_non_negative(beta=beta)

    def _check_networks(self, encoder, decoder):
        """Checks the networks' shapes against each other; True when the decoder gives scales."""
        latent_shape = tuple(decoder.inputs[0].shape[1:])
        if len(latent_shape) != 1 or latent_shape[0] is None:
            raise ValueError(
                f"the decoder must take latents of shape (latent_dim,); got {latent_shape}"
            )
        if None in self.data_shape or not self.data_shape:
            raise ValueError(
                f"the encoder must take data of a fixed shape, e.g. (28, 28, 1) or (2,); got "
                f"{self.data_shape}"
            )
        encoded = tuple(encoder.outputs[0].shape[1:])
        if encoded != (2 * self.latent_dim,):
            raise ValueError(
                f"the decoder takes latents of size {self.latent_dim}, so the encoder must return "
                f"(batch, {2 * self.latent_dim}) (location and raw scale); it returns "
                f"(batch, {', '.join(map(str, encoded))}): rebuild it with "
                f"latent_dim={self.latent_dim}"
            )
        decoded = tuple(decoder.outputs[0].shape[1:])
        if decoded == self.data_shape:
            return False
        with_scales = (*self.data_shape[:-1], 2 * self.data_shape[-1])
        if decoded == with_scales:
            if self.likelihood == "bernoulli" or self.scale != "learned":
                raise ValueError(
                    f"the decoder returns a location and a scale per value {decoded}, which "
                    "only a gaussian or laplace likelihood with scale='learned' uses; build it "
                    "with outputs_per_pixel=1"
                )
            return True
        raise ValueError(
            f"the encoder takes data of shape {self.data_shape}, so the decoder must return "
            f"(batch, {', '.join(map(str, self.data_shape))}) (or last axis doubled for learned "
            f"scales); it returns (batch, {', '.join(map(str, decoded))})"
        )

    # Serialization --------------------------------------------------------------------------

    def get_config(self):
        return {
            "name": self.name,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "likelihood": self.likelihood,
            "scale": self.scale,
            "prior": self.prior,
            "num_components": self.num_components,
            "beta": self.beta,
            "kl": self.kl,
            "seed": self.seed,
            **self._ex_post_config(),
        }

    # Compilation ----------------------------------------------------------------------------

    def compile(
        self, optimizer="auto", jit_compile="auto", steps_per_execution=1, run_eagerly=False
    ):
        """Sets the optimizer.

        Args:
            optimizer: `"auto"` (Adam, learning rate 1e-3), an optimizer name or a
                `keras.optimizers.Optimizer`; wrapped in a
                `keras.optimizers.LossScaleOptimizer` under the `"mixed_float16"` policy.
            jit_compile: XLA compilation of the step's math; `"auto"` uses it whenever every
                layer supports it (on CPU too). Under a `tf.distribute` strategy XLA compiles
                the math between the updates, not the updates. The checks of the data run
                outside XLA.
            steps_per_execution: steps run per traced call, as in `keras.Model.compile`.
            run_eagerly: run the step eagerly (for debugging).
        """
        optimizer = self._resolve_optimizers({"optimizer": optimizer})["optimizer"]
        super().compile(
            optimizer=optimizer,
            jit_compile=False,
            steps_per_execution=steps_per_execution,
            run_eagerly=run_eagerly,
        )
        self._compile_step(jit_compile, run_eagerly)
        self.optimizer.build(self.trainable_variables)

    def default_optimizer(self, name="optimizer", learning_rate=None):
        """Adam with learning rate 1e-3 (or `learning_rate`)."""
        return keras.optimizers.Adam(learning_rate=1e-3 if learning_rate is None else learning_rate)

    def call(self, inputs, training=False):
        """Reconstructs `inputs` through the posterior mean, in the data's range."""
        loc, _ = self._posterior_params(inputs, training=training)
        return self._mean(ops.cast(self.decoder(loc, training=training), "float32"))
