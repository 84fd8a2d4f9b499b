"""The VAE-GAN trainer `VAEGAN`: a VAE whose reconstruction error is measured in a
discriminator's features."""

import numbers

import keras
import tensorflow_probability as tfp
from keras import ops

from kgan import losses as losses_lib
from kgan import networks
from kgan.models.base import register_trainer
from kgan.models.encoder_decoder import EncoderDecoderTrainer
from kgan.models.vaegan.feature_layer import default_feature_layer, output_layer
from kgan.models.vaegan.training import VAEGANTrainingMixin

tfd = tfp.distributions


@register_trainer("vaegan")
class VAEGAN(VAEGANTrainingMixin, EncoderDecoderTrainer):
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
        ex_post_components: components of the ex-post mixture of the encoder's codes (see
            `kgan.models.ex_post`); None until `fit_ex_post` fits one.
        sampling: where `generate` draws latents from: `"prior"` or `"ex_post"` (the fitted
            mixture; Ghosh et al. 2020). Saved with the model.
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

    data_noun = "images"
    # In the order the divergence guard checks them (the first non-finite one is named).
    network_names = ("discriminator", "encoder", "decoder")
    optimizer_names = ("e_optimizer", "g_optimizer", "d_optimizer")
    loss_owners = (
        ("kl", "encoder"),
        ("reconstruction", "encoder and decoder"),
        ("pixel_mse", "decoder"),
        ("d_loss", "discriminator"),
        ("g_loss", "decoder"),
    )
    build_options = (
        "latent_dim",
        "width",
        "d_width",
        "synchronized_batch_norm",
        "feature_layer",
        "loss",
        "gamma",
        "beta",
        "seed",
    )

    @classmethod
    def from_shape(
        cls,
        shape,
        num_classes=None,
        latent_dim=None,
        width=None,
        d_width=None,
        synchronized_batch_norm=False,
        **options,
    ):
        """Builds a VAE-GAN and its networks for images of a given shape.

        The encoder is `kgan.networks.vae_encoder`, the decoder `kgan.networks.dcgan_generator`
        (tanh images in [-1, 1]) and the discriminator `kgan.networks.dcgan_discriminator`.

        Args:
            shape: per-image shape `(height, width, channels)`, sides divisible by 4.
            num_classes: ignored (the VAE-GAN learns without labels).
            latent_dim: latent size; 32 when None.
            width: the encoder's and decoder's width (`width` of their builders), 32 when None.
            d_width: the discriminator's width; `width` when None.
            synchronized_batch_norm: batch statistics of the decoder over the global batch
                under a `tf.distribute` strategy (see `kgan.networks.dcgan_generator`).
            **options: passed to the VAEGAN (`feature_layer`, `loss`, `gamma`, `beta`, `seed`).

        Returns:
            An uncompiled VAEGAN.

        Example:
            >>> vaegan = kgan.models.VAEGAN.from_shape((28, 28, 1), latent_dim=32, seed=0)
        """
        cls.check_build_options(options)
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
        return cls(encoder, decoder, discriminator, **options)

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
        ex_post_components=None,
        sampling="prior",
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
        # The networks arrive built, so the trainer is too; this lets Keras save its own state
        # (the seed generator) with the weights.
        self._init_ex_post(ex_post_components, sampling)
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
        head = output_layer(d)
        valid = [
            layer.name
            for layer in d.layers
            if not isinstance(layer, keras.layers.InputLayer) and layer is not head
        ]
        if feature_layer is None:
            return default_feature_layer(d)
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
            **self._ex_post_config(),
        }

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
        self._compile_step(jit_compile, run_eagerly)
        optimizers = self._resolve_optimizers(
            {"e_optimizer": e_optimizer, "g_optimizer": g_optimizer, "d_optimizer": d_optimizer}
        )
        self.e_optimizer = optimizers["e_optimizer"]
        self.g_optimizer = optimizers["g_optimizer"]
        self.d_optimizer = optimizers["d_optimizer"]
        self.e_optimizer.build(self.encoder.trainable_variables)
        self.g_optimizer.build(self.decoder.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def default_optimizer(self, name="e_optimizer", learning_rate=None):
        """RMSprop with learning rate 3e-4 (or `learning_rate`) for each network.

        RMSProp as in Larsen et al.'s released code; the learning rate 3e-4 is kgan's choice.
        """
        return keras.optimizers.RMSprop(
            learning_rate=3e-4 if learning_rate is None else learning_rate
        )

    # Distributions --------------------------------------------------------------------------

    def _posterior(self, loc, scale):
        return tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)

    def _prior(self):
        return tfd.MultivariateNormalDiag(
            loc=ops.zeros((self.latent_dim,)), scale_diag=ops.ones((self.latent_dim,))
        )

    def _decode_mean(self, z):
        return ops.cast(self.decoder(z, training=False), "float32")

    def call(self, inputs, training=False):
        """Reconstructs `inputs` through the posterior mean: `Dec(E[z|x])` in [-1, 1]."""
        loc, _ = self._posterior_params(inputs, training=training)
        return ops.cast(self.decoder(loc, training=training), "float32")
