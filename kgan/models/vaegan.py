"""The VAE-GAN: a VAE whose reconstruction error is measured in a discriminator's features."""

import numbers

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from kgan import distribute
from kgan import losses as losses_lib
from kgan.models.gan import (
    _resolve_jit_compile,
    _resolve_loss_scaling,
    _resolve_optimizer,
    _skip_symbolic_build,
    _StepXLA,
)
from kgan.models.seed_state import SeedStateMixin
from kgan.models.vae import VAE, VAEInferenceModule
from kgan.zoo.mixin import PresetMixin

tfd = tfp.distributions

# Layers that pass features through unchanged at inference; the default feature layer is taken
# before them.
_PASS_THROUGH = (keras.layers.Dropout, keras.layers.GaussianNoise, keras.layers.GaussianDropout)


def _producer(tensor):
    return tensor._keras_history.operation


def _default_feature_layer(discriminator):
    """The name of the last hidden layer: the input of the logit head, before any dropout."""
    layer = _producer(discriminator.outputs[0])
    # Weightless output layers (a linear Activation casting the logits) lead back to the head.
    while not layer.weights and not isinstance(layer, keras.layers.InputLayer):
        layer = _producer(layer._inbound_nodes[0].input_tensors[0])
    if not isinstance(layer, keras.layers.InputLayer):
        layer = _producer(layer._inbound_nodes[0].input_tensors[0])
    while isinstance(layer, _PASS_THROUGH):
        layer = _producer(layer._inbound_nodes[0].input_tensors[0])
    if isinstance(layer, keras.layers.InputLayer):
        raise ValueError(
            "the discriminator has no hidden layer before its logit head to measure "
            "reconstructions in; pass feature_layer=<a layer name>"
        )
    return layer.name


@keras.saving.register_keras_serializable(package="kgan")
class VAEGAN(PresetMixin, SeedStateMixin, keras.Model):
    """VAE-GAN (Larsen et al. 2016, "Autoencoding beyond pixels using a learned similarity
    metric"), trained with `model.fit`.

    A VAE whose decoder is also a GAN generator. The encoder gives a diagonal Gaussian posterior
    q(z|x) (a `tfd.MultivariateNormalDiag`) against a standard normal prior p(z); the
    reconstruction term is a Gaussian log-likelihood of the real image's features under the
    reconstruction's, both taken at one hidden layer `l` of the discriminator:
    `L_llike = 1/2 * sum_features (D_l(x) - D_l(Dec(z)))^2` with `z ~ q(z|x)` (the negative log
    of `N(D_l(x); D_l(Dec(z)), I)` without its constant), summed over the layer's features and
    averaged over the batch, like the KL term `KL(q(z|x) || p(z))` (closed form, summed over the
    latents). The discriminator sees real images against two kinds of fakes, reconstructions
    `Dec(z)` and prior samples `Dec(z_p)`, `z_p ~ p(z)`, pooled into one fake batch of twice the
    size.

    One step takes one forward pass and updates the three networks from it, each with its own
    optimizer and objective (the paper's Algorithm 1):

    - encoder: `beta * KL + L_llike`;
    - decoder: `gamma * L_llike + L_GAN_g`, the generator side of the adversarial loss on the
      reconstructions and the prior samples;
    - discriminator: `L_GAN_d`, the discriminator side of the adversarial loss.

    The adversarial losses are the shared functions of `kgan.losses`, chosen by name.

    Args:
        encoder: a `keras.Model` from images `[batch, *shape]` to `[batch, 2 * latent_dim]`: the
            posterior's location, then its scale before a softplus (see
            `kgan.networks.vae_encoder`).
        decoder: the generator, a `keras.Model` from latents `[batch, latent_dim]` to images
            `[batch, *shape]` in [-1, 1], e.g. `kgan.networks.dcgan_generator` (tanh output).
        discriminator: a `keras.Model` from images to logits `[batch, 1]` (see
            `kgan.networks.dcgan_discriminator`).
        feature_layer: name of the discriminator layer whose output measures reconstructions;
            None picks the last hidden layer, the input of the logit head (before any dropout):
            `"features"` for `kgan.networks.dcgan_discriminator`.
        loss: the adversarial loss, `"non_saturating"`, `"minimax"`, `"hinge"`,
            `"least_squares"` or `"wasserstein"`.
        gamma: weight of `L_llike` against the adversarial term in the decoder's objective
            (the paper's gamma); >= 0. The paper gives no figure for it; its authors' released
            code weighs a sum over a much larger layer (8x8x256 features of 64x64 images) by
            1e-5 to 1e-6. With this sum over features and the `kgan.networks` builders, 1 (the
            default) gave the best MNIST reconstructions of 0.01, 0.1 and 1 after 3 epochs
            (test pixel MSE 0.38, 0.37, 0.32); lower it for sharper, less faithful images.
        beta: weight of the KL term in the encoder's objective; >= 0.
        seed: int seed of the posterior noise and prior latents the steps draw.
        **kwargs: passed to `keras.Model` (e.g. `name`).

    Under a `tf.distribute` strategy each replica trains on its share of the global batch and
    the updates are those a single device makes on the whole batch (see `kgan.VAE`); build the
    decoder with `synchronized_batch_norm=True` (`kgan.models.build_vaegan`) for its batch
    statistics to be the global batch's too.

    Example:
        >>> encoder = kgan.networks.vae_encoder((28, 28, 1), latent_dim=32)
        >>> decoder = kgan.networks.dcgan_generator((28, 28, 1), latent_dim=32, width=32)
        >>> discriminator = kgan.networks.dcgan_discriminator((28, 28, 1), width=32)
        >>> vaegan = kgan.models.VAEGAN(encoder, decoder, discriminator, seed=0)
        >>> vaegan.compile()
        >>> vaegan.fit(kgan.data.load("mnist_5k"), epochs=10)
        >>> pairs = vaegan.reconstruct(x_test[:32])  # [32, 28, 28, 1] in [-1, 1]
        >>> samples = vaegan.generate(64, seed=0)
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
        discriminator,
        feature_layer=None,
        loss="non_saturating",
        gamma=1.0,
        beta=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        roles = (("encoder", encoder), ("decoder", decoder), ("discriminator", discriminator))
        for role, network in roles:
            if not isinstance(network, keras.Model):
                raise ValueError(
                    f"{role} must be a keras.Model (build one with kgan.networks); got "
                    f"{type(network).__name__}"
                )
            if len(network.inputs) != 1 or len(network.outputs) != 1:
                raise ValueError(
                    f"VAEGAN takes unconditional networks with one input and one output; the "
                    f"{role} has {len(network.inputs)} inputs and {len(network.outputs)} "
                    "outputs (build it without num_classes)"
                )
        for argument, value in (("gamma", gamma), ("beta", beta)):
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not 0.0 <= value < float("inf")
            ):
                raise ValueError(f"{argument} must be a finite float >= 0; got {value!r}")
        self.d_loss_fn, self.g_loss_fn = losses_lib.get(loss)
        self.encoder = encoder
        self.decoder = decoder
        self.discriminator = discriminator
        self.loss_name = loss
        self.gamma = float(gamma)
        self.beta = float(beta)
        self.seed = seed
        self._check_shapes()
        self.feature_layer = self._check_feature_layer(feature_layer)
        # One call gives the logits and the features; it shares the discriminator's layers. It is
        # set past Keras's attribute tracking so that those weights are saved once, under the
        # discriminator.
        object.__setattr__(
            self,
            "_feature_model",
            keras.Model(
                discriminator.inputs[0],
                [discriminator.outputs[0], discriminator.get_layer(self.feature_layer).output],
                name=f"{discriminator.name}_with_features",
            ),
        )
        self._batch_dependent_discriminator = any(
            isinstance(layer, keras.layers.BatchNormalization)
            for layer in discriminator._flatten_layers()
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.pixel_mse_tracker = keras.metrics.Mean(name="pixel_mse")
        self._step_jit = False
        self._xla = _StepXLA(self, enabled=False)
        self._encode_fn = None
        self._decode_fn = None
        # The networks arrive built, so the trainer is too; this lets Keras save its own state
        # (the seed generator) with the weights.
        self.built = True

    # Construction helpers -----------------------------------------------------------------

    def _check_shapes(self):
        self.data_shape = tuple(self.encoder.inputs[0].shape[1:])
        if not self.data_shape or None in self.data_shape:
            raise ValueError(
                f"the encoder must take images of a fixed shape, e.g. (28, 28, 1); got "
                f"{self.data_shape}"
            )
        latent_shape = tuple(self.decoder.inputs[0].shape[1:])
        if len(latent_shape) != 1 or latent_shape[0] is None:
            raise ValueError(
                f"the decoder must take latents of shape (latent_dim,); got {latent_shape}"
            )
        self.latent_dim = int(latent_shape[0])
        encoded = tuple(self.encoder.outputs[0].shape[1:])
        if encoded != (2 * self.latent_dim,):
            raise ValueError(
                f"the decoder takes latents of size {self.latent_dim}, so the encoder must return "
                f"(batch, {2 * self.latent_dim}) (location and raw scale); it returns "
                f"(batch, {', '.join(map(str, encoded))}): rebuild it with "
                f"latent_dim={self.latent_dim}"
            )
        decoded = tuple(self.decoder.outputs[0].shape[1:])
        if decoded != self.data_shape:
            raise ValueError(
                f"the encoder takes images of shape {self.data_shape} but the decoder makes "
                f"{decoded}; build both for the same image shape"
            )
        judged = tuple(self.discriminator.inputs[0].shape[1:])
        if judged != self.data_shape:
            raise ValueError(
                f"the decoder makes images of shape {self.data_shape} but the discriminator takes "
                f"{judged}; build the discriminator for the decoder's images"
            )
        logits = tuple(self.discriminator.outputs[0].shape[1:])
        if logits not in ((1,), ()):
            raise ValueError(
                f"the discriminator must return one logit per image, (batch, 1); it returns "
                f"(batch, {', '.join(map(str, logits))})"
            )

    def _check_feature_layer(self, feature_layer):
        d = self.discriminator
        output_layer = _producer(d.outputs[0])
        valid = [
            layer.name
            for layer in d.layers
            if not isinstance(layer, keras.layers.InputLayer) and layer is not output_layer
        ]
        if feature_layer is None:
            return _default_feature_layer(d)
        if feature_layer not in valid:
            raise ValueError(
                f"feature_layer {feature_layer!r} is not a hidden layer of the discriminator "
                f"{d.name!r}; choose one of {valid}"
            )
        return feature_layer

    # Serialization --------------------------------------------------------------------------

    def get_config(self):
        return {
            "name": self.name,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "feature_layer": self.feature_layer,
            "loss": self.loss_name,
            "gamma": self.gamma,
            "beta": self.beta,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    # Compilation ----------------------------------------------------------------------------

    def compile(
        self,
        e_optimizer="auto",
        g_optimizer="auto",
        d_optimizer="auto",
        jit_compile="auto",
        steps_per_execution=1,
        run_eagerly=False,
    ):
        """Sets the three optimizers.

        Args:
            e_optimizer: the encoder's optimizer; `"auto"` is RMSprop (the optimizer of Larsen
                et al. 2016 and of their released code) with learning rate 3e-4 (Keras's
                defaults otherwise: rho 0.9, epsilon 1e-7).
            g_optimizer: the decoder's optimizer; `"auto"` as for `e_optimizer`.
            d_optimizer: the discriminator's optimizer; `"auto"` as for `e_optimizer`. Under
                the `"mixed_float16"` policy each optimizer is wrapped in a
                `keras.optimizers.LossScaleOptimizer`.
            jit_compile: XLA compilation of the step's math; `"auto"` uses it whenever every
                layer supports it (on CPU too). Under a `tf.distribute` strategy XLA compiles
                the math between the updates, not the updates.
            steps_per_execution: steps run per traced call, as in `keras.Model.compile`.
            run_eagerly: run the step eagerly (for debugging).
        """
        super().compile(
            optimizer=None,
            jit_compile=False,
            steps_per_execution=steps_per_execution,
            run_eagerly=run_eagerly,
        )
        jit_compile = _resolve_jit_compile(self, jit_compile, run_eagerly)
        self._step_jit = bool(jit_compile) and not run_eagerly
        self._xla = _StepXLA(self, self._step_jit)
        self._jit_compile_setting = jit_compile
        optimizers = [
            _resolve_optimizer(optimizer, self._default_optimizer, argument)
            for optimizer, argument in (
                (e_optimizer, "e_optimizer"),
                (g_optimizer, "g_optimizer"),
                (d_optimizer, "d_optimizer"),
            )
        ]
        if len({id(optimizer) for optimizer in optimizers}) < 3:
            raise ValueError(
                "e_optimizer, g_optimizer and d_optimizer must be three distinct optimizers"
            )
        self.e_optimizer, self.g_optimizer, self.d_optimizer = (
            _resolve_loss_scaling(self, optimizer) for optimizer in optimizers
        )
        self.e_optimizer.build(self.encoder.trainable_variables)
        self.g_optimizer.build(self.decoder.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def _default_optimizer(self):
        # RMSProp as in Larsen et al.'s released code; the learning rate 3e-4 is kgan's choice.
        return keras.optimizers.RMSprop(learning_rate=3e-4)

    def get_compile_config(self):
        if not self.compiled:
            return {}
        return {
            "e_optimizer": keras.saving.serialize_keras_object(self.e_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "jit_compile": self._jit_compile_setting,
            "steps_per_execution": self.steps_per_execution,
        }

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("e_optimizer", "g_optimizer", "d_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    # Distributions --------------------------------------------------------------------------

    _posterior_params = VAE._posterior_params

    def _posterior(self, loc, scale):
        return tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)

    def _prior(self):
        return tfd.MultivariateNormalDiag(
            loc=ops.zeros((self.latent_dim,)), scale_diag=ops.ones((self.latent_dim,))
        )

    # Training -------------------------------------------------------------------------------

    _maybe_symbolic_build = _skip_symbolic_build

    @property
    def metrics(self):
        return [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.kl_tracker,
            self.reconstruction_tracker,
            self.pixel_mse_tracker,
        ]

    def _unpack(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, tuple | list):
            raise ValueError(
                "fit() expects a dataset of (images, labels) or of images alone; got a nested "
                f"structure of {len(x)} inputs"
            )
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"the networks were built for images of shape {self.data_shape} but the data has "
                f"shape {tuple(x.shape[1:])}; rebuild the networks with that shape or resize the "
                "data (kgan.data.load(..., image_size=...))"
            )
        return ops.cast(x, "float32")

    def _discriminate(self, real, fakes, training):
        """Logits and features of real and fake images; one call when no layer mixes a batch."""
        if self._batch_dependent_discriminator:
            real_logits, real_features = self._feature_model(real, training=training)
            fake_logits, fake_features = self._feature_model(fakes, training=training)
            return real_logits, fake_logits, real_features, fake_features
        logits, features = self._feature_model(
            ops.concatenate([real, fakes], axis=0), training=training
        )
        n = ops.shape(real)[0]
        return logits[:n], logits[n:], features[:n], features[n:]

    def _step_terms(self, x, noise, prior_latents, training):
        """The step's terms from one forward pass, given the posterior noise and prior latents.

        Returns:
            A dict of scalars: `kl`, `reconstruction` (L_llike), `g_loss`, `d_loss` and
            `pixel_mse`, each a batch mean.
        """
        loc, scale = self._posterior_params(x, training=training)  # [batch, latent] each
        z = loc + scale * noise
        kl = tfd.kl_divergence(self._posterior(loc, scale), self._prior())  # [batch]
        n = ops.shape(x)[0]
        # Reconstructions and prior samples in one decoder call, [2 batch, *shape].
        fakes = ops.cast(
            self.decoder(ops.concatenate([z, prior_latents], axis=0), training=training), "float32"
        )
        real_logits, fake_logits, real_features, fake_features = self._discriminate(
            x, fakes, training
        )
        recon_features = ops.cast(fake_features[:n], "float32")
        difference = ops.reshape(recon_features - ops.cast(real_features, "float32"), (n, -1))
        reconstruction = 0.5 * ops.sum(ops.square(difference), axis=1)  # [batch]
        return {
            "kl": ops.mean(kl),
            "reconstruction": ops.mean(reconstruction),
            "g_loss": self.g_loss_fn(fake_logits),
            "d_loss": self.d_loss_fn(real_logits, fake_logits),
            "pixel_mse": ops.mean(ops.square(fakes[:n] - x)),
        }

    def _draw(self, layout):
        """The step's random numbers for this replica's rows: posterior noise, prior latents."""
        return {
            "noise": layout.normal((self.latent_dim,), self.seed_generator),
            "prior_latents": layout.normal((self.latent_dim,), self.seed_generator),
        }

    def _record(self, terms):
        self.d_loss_tracker.update_state(terms["d_loss"])
        self.g_loss_tracker.update_state(terms["g_loss"])
        self.kl_tracker.update_state(terms["kl"])
        self.reconstruction_tracker.update_state(terms["reconstruction"])
        self.pixel_mse_tracker.update_state(terms["pixel_mse"])
        return distribute.step_logs({m.name: m.result() for m in self.metrics})

    def _train_update(self, x, draws, weight):
        """The three networks' updates; returns this replica's batch means of the terms.

        `weight` is the replica's share of the global batch (1 on one device).
        """
        terms, e_grads, g_grads, d_grads = self._xla.part(self._gradients)(x, draws, weight)
        distribute.apply_gradients(self.e_optimizer, e_grads, self.encoder.trainable_variables)
        distribute.apply_gradients(self.g_optimizer, g_grads, self.decoder.trainable_variables)
        distribute.apply_gradients(
            self.d_optimizer, d_grads, self.discriminator.trainable_variables
        )
        return terms

    def _gradients(self, x, draws, weight):
        with tf.GradientTape(persistent=True) as tape:
            terms = self._test_terms(x, draws, training=True)
            e_objective = (self.beta * terms["kl"] + terms["reconstruction"]) * weight
            g_objective = (self.gamma * terms["reconstruction"] + terms["g_loss"]) * weight
            d_objective = terms["d_loss"] * weight
            e_objective = self.e_optimizer.scale_loss(e_objective)
            g_objective = self.g_optimizer.scale_loss(g_objective)
            d_objective = self.d_optimizer.scale_loss(d_objective)
        # All three gradients come from the same forward pass, before any update.
        e_grads = tape.gradient(e_objective, self.encoder.trainable_variables)
        g_grads = tape.gradient(g_objective, self.decoder.trainable_variables)
        d_grads = tape.gradient(d_objective, self.discriminator.trainable_variables)
        del tape
        return terms, e_grads, g_grads, d_grads

    def _test_terms(self, x, draws, training=False):
        return self._step_terms(x, draws["noise"], draws["prior_latents"], training=training)

    # The VAE's step wrappers: data checks, then the draws and the math (under XLA).
    train_step = VAE.train_step
    test_step = VAE.test_step
    _train_math = VAE._train_math
    _test_math = VAE._test_math

    def call(self, inputs, training=False):
        """Reconstructs `inputs` through the posterior mean: `Dec(E[z|x])` in [-1, 1]."""
        loc, _ = self._posterior_params(inputs, training=training)
        return ops.cast(self.decoder(loc, training=training), "float32")

    # Inference ------------------------------------------------------------------------------

    _check_data = VAE._check_data
    _check_latents = VAE._check_latents
    _posterior_arrays = VAE._posterior_arrays

    def _decode_mean(self, z):
        return ops.cast(self.decoder(z, training=False), "float32")

    def encode(self, x, sample=False, seed=None, batch_size=256):
        """Maps images to latents: the posterior mean, or one sample of q(z|x).

        Args:
            x: `[n, *shape]` float images in [-1, 1].
            sample: draw `z ~ q(z|x)` instead of returning its mean.
            seed: int seed of the sample.
            batch_size: images per encoder call.

        Returns:
            A numpy array `[n, latent_dim]` of float32.

        Example:
            >>> z = vaegan.encode(x_test)  # posterior means
        """
        return VAE.encode(self, x, sample=sample, seed=seed, batch_size=batch_size)

    def posterior(self, x, batch_size=256):
        """q(z|x) for every image, as a `tfd.MultivariateNormalDiag` of batch shape `[n]`.

        Example:
            >>> vaegan.posterior(x_test[:8]).stddev().shape
            TensorShape([8, 32])
        """
        loc, scale = self._posterior_arrays(self._check_data(x), batch_size)
        return self._posterior(loc, scale)

    def prior_distribution(self):
        """p(z), the standard normal `tfd.MultivariateNormalDiag` of size `latent_dim`."""
        return self._prior()

    def decode(self, z, batch_size=256):
        """Maps latents to images in [-1, 1] with the decoder (the generator).

        Args:
            z: `[n, latent_dim]` latents.
            batch_size: latents per decoder call.

        Returns:
            A numpy array `[n, *shape]` of float32.

        Example:
            >>> images = vaegan.decode(np.zeros((1, vaegan.latent_dim)))
        """
        return VAE.decode(self, z, batch_size=batch_size)

    def reconstruct(self, x, sample=False, seed=None, batch_size=256):
        """`decode(encode(x))`: the decoder at the posterior mean (or at a sample).

        Example:
            >>> kgan.image_grid.save_image_grid(vaegan.reconstruct(x_test[:64]), "recon.png")
        """
        return self.decode(self.encode(x, sample, seed, batch_size), batch_size)

    def generate(self, num_samples=None, latents=None, seed=None, batch_size=256):
        """Decodes latents drawn from the prior N(0, I).

        Args:
            num_samples: how many images; inferred from `latents` when omitted.
            latents: `[n, latent_dim]` latents; drawn from N(0, I) when omitted.
            seed: int seed of the drawn latents.
            batch_size: latents per decoder call.

        Returns:
            A numpy array `[n, *shape]` of float32 in [-1, 1].

        Example:
            >>> kgan.image_grid.save_image_grid(vaegan.generate(64, seed=0), "samples.png")
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
        noise = np.random.default_rng(seed).standard_normal((num_samples, self.latent_dim))
        return self.decode(noise.astype("float32"), batch_size)

    # Export ---------------------------------------------------------------------------------

    def inference_module(self):
        """A `tf.Module` that tracks the encoder and decoder (not the discriminator or the
        optimizers) and serves them.

        Its traced functions: `encode(x)` (`[None, *shape]` float32 -> posterior means
        `[None, latent_dim]`), `decode(z)` and `generate(z)` (`[None, latent_dim]` float32 ->
        images `[None, *shape]` in [-1, 1]; `generate` takes latents the caller drew from
        N(0, I)).

        Example:
            >>> module = vaegan.inference_module()
            >>> tf.saved_model.save(module, path, signatures=module.signatures())
        """
        return VAEInferenceModule(self)

    def inference_functions(self):
        """`{"encode", "decode", "generate"}` -> traced functions with fixed input signatures
        (see `inference_module`). They read the model's variables: save them under the model
        or under `inference_module()` as the root object."""
        return self.inference_module().signatures()
