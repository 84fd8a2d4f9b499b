"""The variational autoencoder: ELBO training, IWAE likelihoods and a learnable mixture prior."""

import numbers

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from kgan import distribute
from kgan.models.gan import (
    _resolve_jit_compile,
    _resolve_loss_scaling,
    _resolve_optimizer,
    _skip_symbolic_build,
    _StepXLA,
)
from kgan.models.seed_state import SeedStateMixin
from kgan.zoo.mixin import PresetMixin

tfd = tfp.distributions

LIKELIHOODS = ("bernoulli", "gaussian", "laplace")
PRIORS = ("normal", "mixture")
KL_ESTIMATORS = ("auto", "analytic", "monte_carlo")
# Floors that keep the softplus scales away from zero.
_POSTERIOR_MIN_SCALE = 1e-4
_LIKELIHOOD_MIN_SCALE = 1e-3
# Decoder calls per traced call of the importance-sampled likelihood: bounds its memory.
_DECODES_PER_CALL = 16384


def _inverse_softplus(y):
    y = np.asarray(y, dtype="float64")
    return (y + np.log(-np.expm1(-y))).astype("float32")


@keras.saving.register_keras_serializable(package="kgan")
class VAE(PresetMixin, SeedStateMixin, keras.Model):
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

    # Unconditional, as the CLI and the callbacks ask of every trainer.
    conditional = False
    num_classes = None

    @property
    def sample_shape(self):
        """The shape of one example, `data_shape` (named as on the GAN trainers)."""
        return self.data_shape

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
                initializer=keras.initializers.Constant(float(_inverse_softplus(1.0))),
                name="prior_raw_scales",
            )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self._step_jit = False
        self._xla = _StepXLA(self, enabled=False)
        self._encode_fn = None
        self._decode_fn = None
        self._iwae_fn = None
        # The networks arrive built, so the trainer is too; this lets Keras save its own weights
        # (prior, log-scale) and the seed generator.
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
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta >= 0:
            raise ValueError(f"beta must be a float >= 0; got {beta!r}")

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
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

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
        optimizer = _resolve_optimizer(
            optimizer, lambda: keras.optimizers.Adam(learning_rate=1e-3), "optimizer"
        )
        optimizer = _resolve_loss_scaling(self, optimizer)
        super().compile(
            optimizer=optimizer,
            jit_compile=False,
            steps_per_execution=steps_per_execution,
            run_eagerly=run_eagerly,
        )
        jit_compile = _resolve_jit_compile(self, jit_compile, run_eagerly)
        self._step_jit = bool(jit_compile) and not run_eagerly
        self._xla = _StepXLA(self, self._step_jit)
        self._jit_compile_setting = jit_compile
        self.optimizer.build(self.trainable_variables)

    def get_compile_config(self):
        if not self.compiled:
            return {}
        return {
            "optimizer": keras.saving.serialize_keras_object(self.optimizer),
            "jit_compile": self._jit_compile_setting,
            "steps_per_execution": self.steps_per_execution,
        }

    def compile_from_config(self, config):
        config = dict(config)
        config["optimizer"] = keras.saving.deserialize_keras_object(config["optimizer"])
        self.compile(**config)

    # Distributions --------------------------------------------------------------------------

    def _posterior_params(self, x, training=False):
        params = ops.cast(self.encoder(x, training=training), "float32")  # [batch, 2 latent]
        loc, raw = params[:, : self.latent_dim], params[:, self.latent_dim :]
        return loc, ops.softplus(raw) + _POSTERIOR_MIN_SCALE

    def _prior(self):
        if self.prior == "normal":
            return tfd.MultivariateNormalDiag(
                loc=ops.zeros((self.latent_dim,)), scale_diag=ops.ones((self.latent_dim,))
            )
        scales = ops.softplus(self.prior_raw_scales.value) + _POSTERIOR_MIN_SCALE  # [k, latent]
        return tfd.MixtureSameFamily(
            tfd.Categorical(logits=self.prior_logits.value),
            tfd.MultivariateNormalDiag(loc=self.prior_means.value, scale_diag=scales),
        )

    def _likelihood(self, outputs):
        """p(x|z) from the decoder's outputs `[..., *out_shape]`, one event per example."""
        rank = len(self.data_shape)
        if self.likelihood == "bernoulli":
            base = tfd.Bernoulli(logits=outputs, dtype="float32")
        else:
            if self.scale_from_decoder:
                channels = self.data_shape[-1]
                loc = outputs[..., :channels]
                scale = ops.softplus(outputs[..., channels:]) + _LIKELIHOOD_MIN_SCALE
            elif self.log_scale is not None:
                loc = outputs
                scale = ops.exp(self.log_scale.value) + _LIKELIHOOD_MIN_SCALE  # [*shape]
                scale = ops.broadcast_to(scale, ops.shape(loc))
            else:
                loc = outputs
                scale = ops.full(ops.shape(loc), self.scale)
            family = tfd.Normal if self.likelihood == "gaussian" else tfd.Laplace
            base = family(loc=loc, scale=scale)
        return tfd.Independent(base, reinterpreted_batch_ndims=rank)

    def _target(self, x):
        return (x + 1.0) / 2.0 if self.likelihood == "bernoulli" else x

    def _mean(self, outputs):
        """The likelihood's mean in the data's range."""
        if self.likelihood == "bernoulli":
            return 2.0 * ops.sigmoid(outputs) - 1.0
        if self.scale_from_decoder:
            return outputs[..., : self.data_shape[-1]]
        return outputs

    def _kl_term(self, loc, scale, z):
        """`[batch]` KL(q(z|x) || p(z)): closed form, or `log q(z) - log p(z)` at `z`."""
        posterior = tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)
        if self.kl_estimator == "analytic":
            return tfd.kl_divergence(posterior, self._prior())
        return posterior.log_prob(z) - self._prior().log_prob(z)

    # Training -------------------------------------------------------------------------------

    _maybe_symbolic_build = _skip_symbolic_build

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def _unpack(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, tuple | list):
            raise ValueError(
                "fit() expects a dataset of (data, labels) or of data alone; got a nested "
                f"structure of {len(x)} inputs"
            )
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"the networks were built for data of shape {self.data_shape} but the data has "
                f"shape {tuple(x.shape[1:])}; rebuild the networks with that shape or reshape "
                "the data"
            )
        return ops.cast(x, "float32")

    def _elbo_terms(self, x, noise, training):
        """Batch means of the reconstruction NLL and the KL, from one sample of q(z|x).

        `noise` is `[batch, latent_dim]` standard normal: `z = loc + scale * noise`.
        """
        loc, scale = self._posterior_params(x, training=training)  # [batch, latent] each
        z = loc + scale * noise
        outputs = ops.cast(self.decoder(z, training=training), "float32")
        reconstruction = -self._likelihood(outputs).log_prob(self._target(x))  # [batch]
        kl = self._kl_term(loc, scale, z)  # [batch]
        return ops.mean(reconstruction), ops.mean(kl)

    def _draw(self, layout):
        """The step's random numbers for this replica's rows: the posterior noise."""
        return {"noise": layout.normal((self.latent_dim,), self.seed_generator)}

    def _record(self, terms):
        self.loss_tracker.update_state(terms["reconstruction"] + self.beta * terms["kl"])
        self.reconstruction_tracker.update_state(terms["reconstruction"])
        self.kl_tracker.update_state(terms["kl"])
        return distribute.step_logs({m.name: m.result() for m in self.metrics})

    def _train_update(self, x, draws, weight):
        """The gradient step; returns this replica's batch means of the ELBO's terms.

        `weight` is the replica's share of the global batch (1 on one device).
        """
        terms, grads = self._xla.part(self._gradients)(x, draws, weight)
        distribute.apply_gradients(self.optimizer, grads, self.trainable_variables)
        return terms

    def _gradients(self, x, draws, weight):
        with tf.GradientTape() as tape:
            terms = self._test_terms(x, draws, training=True)
            loss = (terms["reconstruction"] + self.beta * terms["kl"]) * weight
            scaled = self.optimizer.scale_loss(loss)
        return terms, tape.gradient(scaled, self.trainable_variables)

    def _test_terms(self, x, draws, training=False):
        reconstruction, kl = self._elbo_terms(x, draws["noise"], training=training)
        return {"reconstruction": reconstruction, "kl": kl}

    def train_step(self, data):
        return self._record(self._xla.whole(self._train_math)(self._unpack(data)))

    def test_step(self, data):
        return self._record(self._xla.whole(self._test_math)(self._unpack(data)))

    def _train_math(self, x):
        """The step's draws and updates; returns its terms, global-batch means."""
        # Under a strategy this runs on each replica's share of the global batch; the draws,
        # the loss weights and the logged means are those of the global batch.
        layout = distribute.ReplicaBatch(ops.shape(x)[0])
        terms = self._train_update(x, self._draw(layout), layout.weight())
        return dict(zip(terms, layout.mean(list(terms.values()))))

    def _test_math(self, x):
        layout = distribute.ReplicaBatch(ops.shape(x)[0])
        terms = self._xla.part(self._test_terms)(x, self._draw(layout))
        return dict(zip(terms, layout.mean(list(terms.values()))))

    def call(self, inputs, training=False):
        """Reconstructs `inputs` through the posterior mean, in the data's range."""
        loc, _ = self._posterior_params(inputs, training=training)
        return self._mean(ops.cast(self.decoder(loc, training=training), "float32"))

    # Inference ------------------------------------------------------------------------------

    def _check_data(self, x):
        x = np.asarray(x)
        if x.ndim != len(self.data_shape) + 1 or tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"x must have shape (n, {', '.join(map(str, self.data_shape))}); got {x.shape}"
            )
        if not np.issubdtype(x.dtype, np.floating):
            raise ValueError(
                f"x must be floats (images in [-1, 1], as kgan.data gives them); got {x.dtype}"
            )
        return x.astype("float32")

    def _check_latents(self, z):
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"latents must have shape (n, {self.latent_dim}); got {z.shape}")
        return z

    def _posterior_arrays(self, x, batch_size):
        if self._encode_fn is None:
            self._encode_fn = tf.function(self._posterior_params, reduce_retracing=True)
        locs, scales = [], []
        for start in range(0, x.shape[0], batch_size):
            loc, scale = self._encode_fn(x[start : start + batch_size])
            locs.append(np.asarray(loc))
            scales.append(np.asarray(scale))
        return np.concatenate(locs), np.concatenate(scales)

    def encode(self, x, sample=False, seed=None, batch_size=256):
        """Maps data to latents: the posterior mean, or one sample of q(z|x).

        Args:
            x: `[n, *shape]` float data (images in [-1, 1]).
            sample: draw `z ~ q(z|x)` instead of returning its mean.
            seed: int seed of the sample.
            batch_size: examples per encoder call.

        Returns:
            A numpy array `[n, latent_dim]` of float32.

        Example:
            >>> z = vae.encode(x_test)  # posterior means
        """
        loc, scale = self._posterior_arrays(self._check_data(x), batch_size)
        if not sample:
            return loc
        noise = np.random.default_rng(seed).standard_normal(loc.shape).astype("float32")
        return loc + scale * noise

    def posterior(self, x, batch_size=256):
        """q(z|x) for every example, as a `tfd.MultivariateNormalDiag` of batch shape `[n]`.

        Example:
            >>> q = vae.posterior(x_test[:8])
            >>> q.stddev().shape
            TensorShape([8, 16])
        """
        loc, scale = self._posterior_arrays(self._check_data(x), batch_size)
        return tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)

    def _decode_mean(self, z):
        return self._mean(ops.cast(self.decoder(z, training=False), "float32"))

    def decode(self, z, batch_size=256):
        """Maps latents to the likelihood's mean in the data's range.

        For the Bernoulli likelihood that is `2 p - 1` in [-1, 1]; for the others the location.

        Args:
            z: `[n, latent_dim]` latents.
            batch_size: latents per decoder call.

        Returns:
            A numpy array `[n, *shape]` of float32.

        Example:
            >>> images = vae.decode(np.zeros((1, vae.latent_dim)))
        """
        z = self._check_latents(z)
        if self._decode_fn is None:
            self._decode_fn = tf.function(self._decode_mean, reduce_retracing=True)
        outputs = [
            np.asarray(self._decode_fn(z[start : start + batch_size]))
            for start in range(0, z.shape[0], batch_size)
        ]
        if not outputs:
            return np.zeros((0, *self.data_shape), "float32")
        return np.concatenate(outputs)

    def reconstruct(self, x, sample=False, seed=None, batch_size=256):
        """`decode(encode(x))`: the likelihood's mean at the posterior mean (or a sample).

        Example:
            >>> kgan.image_grid.save_image_grid(vae.reconstruct(x_test[:64]), "recon.png")
        """
        return self.decode(self.encode(x, sample, seed, batch_size), batch_size)

    def _prior_arrays(self):
        """The mixture prior as numpy `(weights [k], means [k, latent], scales [k, latent])`."""
        logits = np.asarray(self.prior_logits.numpy(), "float64")
        weights = np.exp(logits - logits.max())
        scales = np.log1p(np.exp(np.asarray(self.prior_raw_scales.numpy(), "float64")))
        return weights / weights.sum(), self.prior_means.numpy(), scales + _POSTERIOR_MIN_SCALE

    def generate(self, num_samples=None, latents=None, seed=None, batch_size=256):
        """Decodes latents drawn from the prior (the mixture's components drawn by weight).

        Args:
            num_samples: how many samples; inferred from `latents` when omitted.
            latents: `[n, latent_dim]` latents; drawn from the prior when omitted.
            seed: int seed of the drawn latents.
            batch_size: latents per decoder call.

        Returns:
            A numpy array `[n, *shape]` of float32: the likelihood's means in the data's range.

        Example:
            >>> kgan.image_grid.save_image_grid(vae.generate(64, seed=0), "samples.png")
        """
        if latents is not None:
            latents = self._check_latents(latents)
            if num_samples is not None and num_samples != latents.shape[0]:
                raise ValueError(f"got {latents.shape[0]} latents for num_samples={num_samples}")
            return self.decode(latents, batch_size)
        if num_samples is None:
            raise ValueError("pass num_samples or latents to say how many samples")
        if not isinstance(num_samples, int | np.integer) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int; got {num_samples!r}")
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((num_samples, self.latent_dim))
        if self.prior == "mixture":
            weights, means, scales = self._prior_arrays()
            components = rng.choice(self.num_components, size=num_samples, p=weights)
            noise = means[components] + scales[components] * noise
        return self.decode(noise.astype("float32"), batch_size)

    def _iwae_chunk(self, x, loc, scale, noise):
        """logsumexp over `[samples]` of the log importance weights, `[batch]`."""
        z = loc + scale * noise  # [samples, batch, latent]
        samples, batch = ops.shape(noise)[0], ops.shape(noise)[1]
        flat = ops.reshape(z, (-1, self.latent_dim))
        outputs = ops.cast(self.decoder(flat, training=False), "float32")
        outputs = ops.reshape(outputs, (samples, batch, *outputs.shape[1:]))
        log_px_z = self._likelihood(outputs).log_prob(self._target(x))  # [samples, batch]
        log_pz = self._prior().log_prob(z)
        log_qz = tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale).log_prob(z)
        return ops.logsumexp(log_px_z + log_pz - log_qz, axis=0)

    def log_likelihood(self, x, num_samples=1000, batch_size=100, seed=None):
        """Importance-weighted estimate of log p(x) per example (Burda et al. 2016).

        `log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)` with `z_i ~ q(z|x)`: a lower bound on
        log p(x) that tightens as `k = num_samples` grows (k=1 is a one-sample ELBO). The
        samples are drawn and decoded in chunks, so k in the thousands fits in memory. For the
        Bernoulli likelihood the figure is in nats of the data mapped to [0, 1].

        Args:
            x: `[n, *shape]` float data.
            num_samples: importance samples per example.
            batch_size: examples per chunk.
            seed: int seed of the samples.

        Returns:
            A numpy array `[n]` of float64 log-likelihoods in nats.

        Example:
            >>> x, _ = kgan.data.load_arrays("mnist_5k", split="test")
            >>> vae.log_likelihood(np.where(x > 0, 1.0, -1.0), num_samples=5000).mean()
        """
        x = self._check_data(x)
        if not isinstance(num_samples, int | np.integer) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int; got {num_samples!r}")
        if not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
        if self._iwae_fn is None:
            self._iwae_fn = tf.function(self._iwae_chunk, reduce_retracing=True)
        loc, scale = self._posterior_arrays(x, batch_size)
        rng = np.random.default_rng(seed)
        result = []
        for start in range(0, x.shape[0], batch_size):
            stop = min(start + batch_size, x.shape[0])
            chunk = max(1, _DECODES_PER_CALL // (stop - start))
            total = np.full(stop - start, -np.inf)
            for drawn in range(0, num_samples, chunk):
                shape = (min(chunk, num_samples - drawn), stop - start, self.latent_dim)
                noise = rng.standard_normal(shape).astype("float32")
                part = self._iwae_fn(x[start:stop], loc[start:stop], scale[start:stop], noise)
                total = np.logaddexp(total, np.asarray(part, "float64"))
            result.append(total - np.log(num_samples))
        return np.concatenate(result)

    # Mixture prior --------------------------------------------------------------------------

    def _require_mixture(self, method):
        if self.prior != "mixture":
            raise ValueError(
                f"{method} needs a mixture prior; this VAE has prior={self.prior!r}: build it "
                "with prior='mixture'"
            )

    def prior_distribution(self):
        """p(z) as a `tfd` distribution: N(0, I), or the mixture built from its current weights.

        Example:
            >>> vae.prior_distribution().sample(5, seed=0).shape
            TensorShape([5, 16])
        """
        return self._prior()

    def set_prior(self, weights, means, variances):
        """Sets the mixture prior, e.g. from a diagonal Gaussian mixture fitted to latents.

        Args:
            weights: `[k]` component weights (positive; normalized here).
            means: `[k, latent_dim]` component means.
            variances: `[k, latent_dim]` diagonal variances (or `[k]` spherical ones).

        Example:
            >>> gmm = kgan.mixture.GaussianMixture(10, covariance_type="diag").fit(vae.encode(x))
            >>> vae.set_prior(gmm.weights_, gmm.means_, gmm.covariances_)
        """
        self._require_mixture("set_prior")
        k, d = self.num_components, self.latent_dim
        weights = np.asarray(weights, "float64")
        means = np.asarray(means, "float64")
        variances = np.asarray(variances, "float64")
        if variances.shape == (k,):
            variances = np.repeat(variances[:, None], d, axis=1)
        if weights.shape != (k,) or means.shape != (k, d) or variances.shape != (k, d):
            raise ValueError(
                f"set_prior takes weights ({k},), means ({k}, {d}) and diagonal variances "
                f"({k}, {d}) for num_components={k}, latent_dim={d}; got {weights.shape}, "
                f"{means.shape}, {variances.shape} (fit a GaussianMixture with "
                "covariance_type='diag')"
            )
        if np.any(weights <= 0) or np.any(variances <= 0):
            raise ValueError("set_prior needs positive weights and positive variances")
        scales = np.maximum(np.sqrt(variances) - _POSTERIOR_MIN_SCALE, 1e-6)
        self.prior_logits.assign(np.log(weights / weights.sum()).astype("float32"))
        self.prior_means.assign(means.astype("float32"))
        self.prior_raw_scales.assign(_inverse_softplus(scales))

    def cluster_probabilities(self, x, batch_size=256):
        """q(c|x): each component's responsibility for the posterior mean (VaDE's rule).

        `q(c|x) ∝ pi_c N(mu(x); m_c, diag(s_c^2))` at the posterior mean `mu(x)` (Jiang et al.
        2017).

        Args:
            x: `[n, *shape]` float data.
            batch_size: examples per encoder call.

        Returns:
            A numpy array `[n, num_components]` whose rows sum to 1.

        Example:
            >>> probabilities = vae.cluster_probabilities(x_test)
        """
        self._require_mixture("cluster_probabilities")
        mu = self.encode(x, batch_size=batch_size).astype("float64")  # [n, latent]
        weights, means, scales = self._prior_arrays()
        standardized = (mu[:, None, :] - means[None]) / scales[None]  # [n, k, latent]
        log_joint = np.log(weights) - 0.5 * np.sum(
            standardized**2 + 2.0 * np.log(scales)[None] + np.log(2.0 * np.pi), axis=-1
        )  # [n, k]
        log_joint -= log_joint.max(axis=1, keepdims=True)
        probabilities = np.exp(log_joint)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict_clusters(self, x, batch_size=256):
        """The most probable component of each example, `[n]` int64 (see
        `cluster_probabilities`).

        Example:
            >>> clusters = vae.predict_clusters(x_test)
        """
        self._require_mixture("predict_clusters")
        return np.argmax(self.cluster_probabilities(x, batch_size), axis=1)

    # Export ---------------------------------------------------------------------------------

    def inference_module(self):
        """A `tf.Module` that tracks the networks (not the optimizer) and serves them.

        Its traced functions: `encode(x)` (`[None, *shape]` float32 -> posterior means
        `[None, latent_dim]`), `decode(z)` and `generate(z)` (`[None, latent_dim]` float32 ->
        `[None, *shape]` in the data's range; `generate` takes latents the caller drew from the
        prior).

        Example:
            >>> module = vae.inference_module()
            >>> tf.saved_model.save(module, path, signatures=module.signatures())
        """
        return VAEInferenceModule(self)

    def inference_functions(self):
        """`{"encode", "decode", "generate"}` -> traced functions with fixed input signatures
        (see `inference_module`). They read the model's variables: save them under the model
        or under `inference_module()` as the root object."""
        return self.inference_module().signatures()


class VAEInferenceModule(tf.Module):
    """A trained `kgan.models.VAE`'s (or `kgan.models.VAEGAN`'s) networks and the functions
    that export them.

    Args:
        model: a `kgan.models.VAE` or `kgan.models.VAEGAN`.

    Example:
        >>> module = kgan.models.vae.VAEInferenceModule(vae)
        >>> tf.saved_model.save(module, "vae_model", signatures=module.signatures())
    """

    def __init__(self, model):
        super().__init__(name=f"{model.name}_inference")
        self.encoder = model.encoder
        self.decoder = model.decoder
        own = [getattr(model, "log_scale", None)]
        if getattr(model, "prior", "normal") == "mixture":
            own += [model.prior_logits, model.prior_means, model.prior_raw_scales]
        self.own_variables = [v.value for v in own if v is not None]
        x_spec = tf.TensorSpec([None, *model.data_shape], tf.float32, name="x")
        z_spec = tf.TensorSpec([None, model.latent_dim], tf.float32, name="z")
        self.encode = tf.function(lambda x: model._posterior_params(x)[0], input_signature=[x_spec])
        self.decode = tf.function(model._decode_mean, input_signature=[z_spec])
        self.generate = tf.function(model._decode_mean, input_signature=[z_spec])

    def signatures(self):
        """`{"encode", "decode", "generate"}` -> traced functions, ready for
        `tf.saved_model.save(self, path, signatures=...)`."""
        return {"encode": self.encode, "decode": self.decode, "generate": self.generate}
