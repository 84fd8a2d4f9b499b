"""The adversarial trainers: `GAN` and the named variants `ConditionalGAN` and `WGANGP`."""

import keras

from kgan import augment as augment_lib
from kgan import losses as losses_lib
from kgan import networks
from kgan.models.base import Trainer, register_trainer
from kgan.models.gan.inference import GANInferenceMixin
from kgan.models.gan.training import GANTrainingMixin
from kgan.sampling import check_positive_int

# The trainer's own options, beside the networks' (see `GAN.from_shape`).
_GAN_OPTIONS = (
    "loss",
    "d_steps",
    "gradient_penalty",
    "r1",
    "r1_interval",
    "seed",
    "ema_decay",
    "augment",
    "pack",
    "top_k",
    "top_k_decay",
)


def default_networks(
    shape,
    num_classes=None,
    latent_dim=None,
    width=None,
    d_width=None,
    spectral_norm=False,
    dropout=0.0,
    synchronized_batch_norm=False,
    pack=1,
):
    """`(generator, discriminator)` of `GAN.from_shape` (see there for the arguments): the
    DCGAN-style networks for images, the MLPs for vectors; the discriminator takes `pack`
    samples side by side when unconditional."""
    shape = tuple(shape)
    # The trainer reports bad values, and a pack on a conditional model.
    pack = pack if isinstance(pack, int) and pack >= 1 and num_classes is None else 1
    d_shape = (*shape[:-1], shape[-1] * pack) if shape else shape
    if len(shape) == 3:
        # Small enough to train on two CPU cores in minutes (see benchmarks/cgan_mnist.py).
        latent_dim = latent_dim or 64
        width = width or 32
        generator = networks.dcgan_generator(
            shape,
            latent_dim,
            num_classes,
            width=width,
            synchronized_batch_norm=synchronized_batch_norm,
        )
        discriminator = networks.dcgan_discriminator(
            d_shape,
            num_classes,
            width=d_width or width,
            spectral_norm=spectral_norm,
            dropout=dropout,
        )
    elif len(shape) == 1:
        latent_dim = latent_dim or 2
        width = width or 128
        d_units = (d_width or 2 * width,) * 3
        generator = networks.mlp_generator(
            shape[0], latent_dim, num_classes, hidden_units=(width,) * 3
        )
        discriminator = networks.mlp_discriminator(
            d_shape[0], num_classes, hidden_units=d_units, spectral_norm=spectral_norm
        )
    else:
        raise ValueError(
            f"shape must be (height, width, channels) for images or (dim,) for vectors; got {shape}"
        )
    return generator, discriminator


@register_trainer("gan")
class GAN(GANTrainingMixin, GANInferenceMixin, Trainer):
    """A generative adversarial network trained with `model.fit`.

    One `train_step` serves the whole family: the loss is chosen by name, the discriminator
    takes `d_steps` updates per generator update and may be regularized by a gradient penalty
    (WGAN-GP) or R1. The generator maps `latents` `[batch, latent_dim]` to samples; the
    discriminator maps samples to logits `[batch, 1]`.

    Args:
        generator: a `keras.Model` from latents to samples (see `kgan.networks`).
        discriminator: a `keras.Model` from samples to logits.
        loss: `"non_saturating"`, `"minimax"`, `"hinge"`, `"least_squares"` or
            `"wasserstein"`.
        d_steps: discriminator updates per generator update.
        gradient_penalty: weight of the WGAN-GP penalty (0 disables it).
        r1: weight `gamma` of the R1 penalty `gamma / 2 * E||grad D(x)||^2` (0 disables it).
        r1_interval: lazy regularization (Karras et al. 2020, StyleGAN2): the R1 penalty is
            taken on every `r1_interval`-th discriminator update only, weighted by
            `r1_interval`, which saves most of its double backward pass; 1 takes it every
            update. The logged `penalty` is then that of the updates that take it.
        seed: int seed of the latents the step draws.
        num_classes: number of classes of a conditional model; read from the generator's
            label `Embedding` (or `CategoryEncoding`) layer when None.
        ema_decay: if set (e.g. 0.999), an exponential moving average of the generator's
            weights, `ema = d * ema + (1 - d) * weights` after the n-th generator update with
            `d = min(ema_decay, (1 + n) / (10 + n))` (the warm-up of TensorFlow's
            `ExponentialMovingAverage`, so the random initial weights fade out fast), is kept
            in `ema_generator`, saved with the model and used by `generate`.
        augment: DiffAugment policy for image data, e.g. `"translation,cutout,color"` (see
            `kgan.augment`): the discriminator sees real and generated images through the same
            random, differentiable transformations in both updates, and the penalties are
            taken on what it sees. None (the default) trains without augmentation.
        pack: PacGAN packing (Lin et al. 2018) for unconditional models: the discriminator
            judges `pack` samples at once, concatenated along the last axis, all real or all
            fake, which penalizes a generator that drops modes. Build the discriminator for
            that input, e.g. `mlp_discriminator(data_dim * pack)` or an image discriminator
            with `channels * pack` channels; the batch size must be a multiple of `pack`.
        **kwargs: passed to `keras.Model` (e.g. `name`).

    Under a `tf.distribute` strategy (build and compile inside its scope, see
    `kgan.distribute.get_strategy`) each replica trains on its share of the dataset's (global)
    batch and the update is the one a single device makes on the whole batch, with the same
    latents and interpolation weights (see `kgan.distribute.ReplicaBatch`). Three things stay
    per replica: batch normalization statistics (unless the networks are built with
    `synchronized_batch_norm=True`), the DiffAugment draws, and the samples `top_k` keeps.
    Under the `"mixed_float16"` policy `compile` wraps the optimizers in
    `keras.optimizers.LossScaleOptimizer`; the networks' last layers compute in float32.

    Example:
        >>> g = kgan.networks.dcgan_generator((28, 28, 1), latent_dim=64)
        >>> d = kgan.networks.dcgan_discriminator((28, 28, 1))
        >>> gan = kgan.GAN(g, d)
        >>> gan.compile()
        >>> gan.fit(kgan.data.load("mnist_5k"), epochs=1)
        >>> images = gan.generate(16, seed=0)  # [16, 28, 28, 1] in [-1, 1]
    """

    conditional = False
    # In the order the divergence guard checks them (the first non-finite one is named).
    network_names = ("discriminator", "generator")
    optimizer_names = ("d_optimizer", "g_optimizer")
    loss_owners = (
        ("d_loss", "discriminator"),
        ("penalty", "discriminator"),
        ("g_loss", "generator"),
    )
    inference_names = ("generate", "sample")
    build_options = (
        "latent_dim",
        "width",
        "d_width",
        "spectral_norm",
        "dropout",
        "synchronized_batch_norm",
        *_GAN_OPTIONS,
    )

    @classmethod
    def from_shape(
        cls,
        shape,
        num_classes=None,
        latent_dim=None,
        width=None,
        d_width=None,
        spectral_norm=False,
        dropout=0.0,
        synchronized_batch_norm=False,
        **options,
    ):
        """Builds the trainer and its networks for data of a given shape.

        Image data (`shape` of rank 3) gets the DCGAN-style networks, vector data (rank 1) the
        MLPs.

        Args:
            shape: per-example shape, e.g. `(28, 28, 1)` or `(2,)`.
            num_classes: number of classes; required by conditional trainers, ignored by the
                others.
            latent_dim: latent size; 64 for images, 2 for vectors when None.
            width: the generator's width (`width` of the DCGAN builders, 32 when None; the
                MLPs' hidden units, 128 when None).
            d_width: the discriminator's width; when None, `width` for images and twice the
                generator's for vectors (a wide discriminator resolves the tight modes of the
                2-D mixtures, see benchmarks/mode_coverage.py).
            spectral_norm: spectral normalization in the discriminator.
            dropout: dropout before the discriminator's head (images only).
            synchronized_batch_norm: batch statistics of the image generator over the global
                batch under a `tf.distribute` strategy (see `kgan.networks.dcgan_generator`).
            **options: passed to the trainer (`loss`, `d_steps`, `r1`, `seed`, ...); with
                `pack` the discriminator is built for packed samples.

        Returns:
            An uncompiled trainer.

        Example:
            >>> cgan = kgan.ConditionalGAN.from_shape((28, 28, 1), num_classes=10)
        """
        cls.check_build_options(options)
        if cls.conditional and num_classes is None:
            raise ValueError(
                f"model {cls.trainer_name or cls.__name__!r} is conditional: pass num_classes "
                "(the data has no labels?)"
            )
        classes = num_classes if cls.conditional else None
        generator, discriminator = default_networks(
            shape,
            classes,
            latent_dim,
            width,
            d_width,
            spectral_norm,
            dropout,
            synchronized_batch_norm,
            options.get("pack", 1),
        )
        return cls(generator, discriminator, **options)

    def __init__(
        self,
        generator,
        discriminator,
        loss="non_saturating",
        d_steps=1,
        gradient_penalty=0.0,
        r1=0.0,
        seed=None,
        num_classes=None,
        ema_decay=None,
        augment=None,
        pack=1,
        top_k=None,
        top_k_decay=0.999,
        r1_interval=1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for network, role in ((generator, "generator"), (discriminator, "discriminator")):
            if not isinstance(network, keras.Model):
                raise ValueError(
                    f"{role} must be a keras.Model (build one with kgan.networks); "
                    f"got {type(network).__name__}"
                )
        self._check_conditioning(generator, discriminator)
        self.d_loss_fn, self.g_loss_fn = losses_lib.get(loss)
        d_steps = check_positive_int("d_steps", d_steps)
        if gradient_penalty < 0 or r1 < 0:
            raise ValueError(f"gradient_penalty and r1 must be >= 0; got {gradient_penalty}, {r1}")
        self.generator = generator
        self.discriminator = discriminator
        self.loss_name = loss
        self.d_steps = d_steps
        self.gradient_penalty = float(gradient_penalty)
        self.r1 = float(r1)
        self.r1_interval = check_positive_int("r1_interval", r1_interval)
        self.seed = seed
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.sample_shape = tuple(generator.outputs[0].shape[1:])
        pack = check_positive_int("pack", pack)
        if pack > 1 and self.conditional:
            raise ValueError(
                "pack works with unconditional models (packed samples would mix labels); "
                "drop pack or use kgan.GAN"
            )
        self.pack = pack
        if top_k is not None and not 0.0 < top_k <= 1.0:
            raise ValueError(f"top_k must be a fraction in (0, 1] or None; got {top_k!r}")
        if not 0.0 < top_k_decay <= 1.0:
            raise ValueError(f"top_k_decay must be in (0, 1]; got {top_k_decay!r}")
        self.top_k = None if top_k is None else float(top_k)
        self.top_k_decay = float(top_k_decay)
        packed_shape = (*self.sample_shape[:-1], self.sample_shape[-1] * pack)
        if tuple(discriminator.inputs[0].shape[1:]) != packed_shape:
            packing = f" packed {pack} at a time, i.e. {packed_shape}" if pack > 1 else ""
            raise ValueError(
                f"the generator makes samples of shape {self.sample_shape} but the "
                f"discriminator takes {tuple(discriminator.inputs[0].shape[1:])}; build the "
                f"discriminator for the generator's samples{packing}"
            )
        self.num_classes = self._infer_num_classes(generator, num_classes)
        self.augment = augment_lib.parse_policy(augment)
        if self.augment and len(self.sample_shape) != 3:
            raise ValueError(
                f"augment works on images (height, width, channels); these samples have shape "
                f"{self.sample_shape}: drop augment"
            )
        # Batch statistics would mix real and fake, so such discriminators see them apart.
        self._batch_dependent_discriminator = any(
            isinstance(layer, keras.layers.BatchNormalization)
            for layer in discriminator._flatten_layers()
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        if ema_decay is not None and not 0.0 <= ema_decay <= 1.0:
            raise ValueError(f"ema_decay must be in [0, 1] or None; got {ema_decay!r}")
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.ema_generator = None
        if self.ema_decay is not None:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_generator.trainable = False
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.penalty_tracker = (
            keras.metrics.Mean(name="penalty") if (self.gradient_penalty or self.r1) else None
        )
        # The networks arrive built, so the trainer is too; this lets Keras save its own state
        # (the seed generator) with the weights.
        self.built = True

    # Construction helpers -----------------------------------------------------------------

    def _check_conditioning(self, generator, discriminator):
        g_in, d_in = len(generator.inputs), len(discriminator.inputs)
        if self.conditional and (g_in != 2 or d_in != 2):
            raise ValueError(
                f"{type(self).__name__} needs networks that take labels (build them with "
                "num_classes=...); got a generator with "
                f"{g_in} input(s) and a discriminator with {d_in}"
            )
        if not self.conditional and (g_in != 1 or d_in != 1):
            raise ValueError(
                f"{type(self).__name__} takes unconditional networks (one input each); these "
                "take labels: use kgan.ConditionalGAN"
            )

    def _infer_num_classes(self, generator, num_classes):
        if not self.conditional:
            if num_classes is not None:
                raise ValueError(f"{type(self).__name__} is unconditional: drop num_classes")
            return None
        if num_classes is not None:
            if not isinstance(num_classes, int) or num_classes < 2:
                raise ValueError(f"num_classes must be an int >= 2; got {num_classes!r}")
            return num_classes
        # The layer that reads the labels input: an Embedding or a one-hot CategoryEncoding.
        labels = generator.inputs[1]
        for layer in generator.layers:
            inbound = [t for node in layer._inbound_nodes for t in node.input_tensors]
            if not any(t is labels for t in inbound):
                continue
            if isinstance(layer, keras.layers.Embedding):
                return int(layer.input_dim)
            if isinstance(layer, keras.layers.CategoryEncoding):
                return int(layer.num_tokens)
        raise ValueError(
            "cannot tell the number of classes: the generator reads its labels with neither an "
            "Embedding nor a CategoryEncoding layer; pass num_classes=..."
        )

    # Serialization --------------------------------------------------------------------------

    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "loss": self.loss_name,
            "d_steps": self.d_steps,
            "gradient_penalty": self.gradient_penalty,
            "r1": self.r1,
            "seed": self.seed,
            "num_classes": self.num_classes,
            "ema_decay": self.ema_decay,
            "augment": ",".join(self.augment) or None,
            "pack": self.pack,
            "top_k": self.top_k,
            "top_k_decay": self.top_k_decay,
            "r1_interval": self.r1_interval,
        }

    # Compilation ----------------------------------------------------------------------------

    def compile(
        self,
        d_optimizer="auto",
        g_optimizer="auto",
        jit_compile="auto",
        steps_per_execution=1,
        run_eagerly=False,
    ):
        """Sets the two optimizers.

        Args:
            d_optimizer: the discriminator's optimizer; `"auto"` is Adam(2e-4, beta_1=0.5)
                (Adam(1e-4, beta_1=0, beta_2=0.9) for `WGANGP`). Under the `"mixed_float16"`
                policy it is wrapped in a `keras.optimizers.LossScaleOptimizer`.
            g_optimizer: the generator's optimizer; `"auto"` as for `d_optimizer`.
            jit_compile: XLA compilation of the step's math; `"auto"` uses it whenever every
                layer supports it (on CPU too). Under a `tf.distribute` strategy XLA compiles
                the math between the updates, not the updates (nothing with synchronized
                batch normalization). The checks of the data run outside XLA, so bad labels
                still raise.
            steps_per_execution: steps run per traced call, as in `keras.Model.compile`.
            run_eagerly: run the step eagerly (for debugging).
        """
        # The data checks of `train_step` run as graph ops; the math after them is compiled with
        # XLA (see `_StepXLA`), so Keras itself is asked for no XLA.
        super().compile(
            optimizer=None,
            jit_compile=False,
            steps_per_execution=steps_per_execution,
            run_eagerly=run_eagerly,
        )
        self._compile_step(jit_compile, run_eagerly)
        optimizers = self._resolve_optimizers(
            {"d_optimizer": d_optimizer, "g_optimizer": g_optimizer}
        )
        self.d_optimizer = optimizers["d_optimizer"]
        self.g_optimizer = optimizers["g_optimizer"]
        self.d_optimizer.build(self._discriminator_variables())
        self.g_optimizer.build(self._generator_variables())

    def default_optimizer(self, name="d_optimizer", learning_rate=None):
        """Adam(2e-4, beta_1=0.5) for both networks (Radford et al. 2016).

        With a `learning_rate` given, the betas follow the loss: (0, 0.9) for the Wasserstein
        loss (Gulrajani et al. 2017), else (0.5, 0.999).
        """
        if learning_rate is None:
            return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5, beta_2=0.999)
        if self.loss_name == "wasserstein":
            return keras.optimizers.Adam(learning_rate, beta_1=0.0, beta_2=0.9)
        return keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.999)

    def _extra_network_names(self):
        return ("ema_generator",)

    def call(self, inputs, training=False):
        """Runs the generator: `inputs` is latents, or `[latents, labels]` when conditional."""
        return self.generator(inputs, training=training)


@register_trainer("cgan")
class ConditionalGAN(GAN):
    """A class-conditional GAN: both networks take the labels (see `kgan.networks`).

    Trained on a dataset of `(images, labels)`. `generate(labels=...)` picks the classes.
    Same arguments as `kgan.GAN`.

    Example:
        >>> g = kgan.networks.dcgan_generator((28, 28, 1), num_classes=10)
        >>> d = kgan.networks.dcgan_discriminator((28, 28, 1), num_classes=10)
        >>> cgan = kgan.ConditionalGAN(g, d, loss="hinge")
        >>> cgan.compile()
        >>> cgan.fit(kgan.data.load("mnist_5k"), epochs=20)
        >>> sevens = cgan.generate(labels=[7] * 16, seed=0)
    """

    conditional = True


@register_trainer("wgan_gp")
class WGANGP(GAN):
    """Wasserstein GAN with gradient penalty (Gulrajani et al. 2017), unconditional.

    The shared adversarial step with the paper's defaults: the Wasserstein loss, penalty weight
    10 on random interpolates of real and fake (one uniform weight per sample), 5 critic updates
    per generator update, and Adam(1e-4, beta_1=0, beta_2=0.9) for both networks. Build the
    critic without batch normalization (the penalty is per sample).

    Args:
        generator: a `keras.Model` from latents to samples.
        discriminator: the critic, a `keras.Model` from samples to `[batch, 1]` values.
        d_steps: critic updates per generator update.
        gradient_penalty: weight of the gradient penalty.
        **kwargs: passed to `kgan.GAN` (`r1`, `seed`, `name`, ...).

    Example:
        >>> wgan = kgan.WGANGP(kgan.networks.mlp_generator(), kgan.networks.mlp_discriminator())
        >>> wgan.compile()
        >>> wgan.fit(kgan.data.load("ring8", batch_size=256), epochs=5)
    """

    def __init__(
        self,
        generator,
        discriminator,
        loss="wasserstein",
        d_steps=5,
        gradient_penalty=10.0,
        **kwargs,
    ):
        super().__init__(
            generator,
            discriminator,
            loss=loss,
            d_steps=d_steps,
            gradient_penalty=gradient_penalty,
            **kwargs,
        )

    def default_optimizer(self, name="d_optimizer", learning_rate=None):
        """Adam(1e-4, beta_1=0, beta_2=0.9) for both networks (Gulrajani et al. 2017); with a
        `learning_rate` given, as `kgan.GAN.default_optimizer`."""
        if learning_rate is None:
            return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.0, beta_2=0.9)
        return super().default_optimizer(name, learning_rate)
