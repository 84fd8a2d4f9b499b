"""The adversarial trainers: one parameterized `train_step` for every GAN of the family."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kgan import augment as augment_lib
from kgan import distribute
from kgan import losses as losses_lib
from kgan.models.seed_state import SeedStateMixin
from kgan.zoo.mixin import PresetMixin


def _resolve_optimizer(optimizer, default_factory, argument):
    if optimizer == "auto" or optimizer is None:
        return default_factory()
    if isinstance(optimizer, str | dict):
        return keras.optimizers.get(optimizer)
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    raise ValueError(
        f"{argument} must be 'auto', an optimizer name such as 'adam', or a "
        f"keras.optimizers.Optimizer; got {optimizer!r}"
    )


def _resolve_jit_compile(model, jit_compile, run_eagerly):
    """`"auto"` -> XLA whenever every layer supports it; unlike Keras's "auto", on CPU too,
    where these steps run about twice as fast."""
    if jit_compile == "auto":
        return not run_eagerly and all(layer.supports_jit for layer in model._flatten_layers())
    if jit_compile not in (True, False):
        raise ValueError(f"jit_compile must be True, False or 'auto'; got {jit_compile!r}")
    return jit_compile


def _resolve_loss_scaling(model, optimizer):
    """Wraps `optimizer` in a `keras.optimizers.LossScaleOptimizer` when a layer of the model
    computes in float16 (the `"mixed_float16"` policy), as `keras.Model.compile` does."""
    float16 = any(layer.compute_dtype == "float16" for layer in model._flatten_layers())
    if float16 and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


class _StepXLA:
    """Which parts of a step XLA compiles.

    Outside any `tf.distribute` strategy the step's math, after the checks of the data, is
    compiled as a whole (`whole`). Under a strategy the optimizers' gradient all-reduce cannot
    sit inside a compiled function, so only the math between two updates (forward pass, losses,
    gradients) is compiled (`part`); the random draws and the updates run outside it. Batch
    normalization with `synchronized=True` all-reduces too: with it, nothing is compiled under
    a strategy. XLA's random number generators give other numbers than TensorFlow's kernels for
    the same seed, so a step under a strategy draws the numbers of a step without XLA. On two
    CPU devices the compiled pieces train the MNIST cGAN about 1.7 times as fast as no XLA, as
    fast as the whole step compiled on one device (benchmarks/scaling.py).

    Args:
        model: the trainer.
        enabled: whether XLA is used at all.
    """

    def __init__(self, model, enabled):
        self.enabled = enabled
        self._parts_enabled = enabled and not any(
            getattr(layer, "synchronized", False) for layer in model._flatten_layers()
        )
        self._compiled = {}

    def _compile(self, function):
        name = function.__name__
        if name not in self._compiled:
            self._compiled[name] = tf.function(function, jit_compile=True)
        return self._compiled[name]

    def whole(self, function):
        """`function`, the step after its draws, compiled when no strategy is active."""
        if self.enabled and not tf.distribute.has_strategy():
            return self._compile(function)
        return function

    def part(self, function):
        """`function`, a piece between two updates, compiled when a strategy is active."""
        if self._parts_enabled and tf.distribute.has_strategy():
            return self._compile(function)
        return function


def _skip_symbolic_build(model, iterator=None, data_batch=None):
    """Stands in for `keras.Model._maybe_symbolic_build` on the trainers.

    Under a strategy Keras builds an unbuilt model from a data batch that it first reduces
    over the replicas, and under `MultiWorkerMirroredStrategy` that reduction fails for
    `(x, y)` batches. The trainers and their optimizers are built by `__init__` and `compile`,
    so there is nothing to build.
    """


@keras.saving.register_keras_serializable(package="kgan")
class GAN(PresetMixin, SeedStateMixin, keras.Model):
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
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(f"d_steps must be an int >= 1; got {d_steps!r}")
        if gradient_penalty < 0 or r1 < 0:
            raise ValueError(f"gradient_penalty and r1 must be >= 0; got {gradient_penalty}, {r1}")
        self.generator = generator
        self.discriminator = discriminator
        self.loss_name = loss
        self.d_steps = d_steps
        self.gradient_penalty = float(gradient_penalty)
        self.r1 = float(r1)
        self.seed = seed
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.sample_shape = tuple(generator.outputs[0].shape[1:])
        if not isinstance(pack, int) or pack < 1:
            raise ValueError(f"pack must be an int >= 1; got {pack!r}")
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
        self._generate_fn = None
        self._step_jit = False
        self._xla = _StepXLA(self, enabled=False)
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
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

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
        jit_compile = _resolve_jit_compile(self, jit_compile, run_eagerly)
        self._step_jit = bool(jit_compile) and not run_eagerly
        self._xla = _StepXLA(self, self._step_jit)
        d_optimizer = _resolve_optimizer(d_optimizer, self._default_optimizer, "d_optimizer")
        g_optimizer = _resolve_optimizer(g_optimizer, self._default_optimizer, "g_optimizer")
        if d_optimizer is g_optimizer:
            raise ValueError("d_optimizer and g_optimizer must be two distinct optimizers")
        self.d_optimizer = _resolve_loss_scaling(self, d_optimizer)
        self.g_optimizer = _resolve_loss_scaling(self, g_optimizer)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)
        self._jit_compile_setting = jit_compile

    def _default_optimizer(self):
        # Radford et al. 2016: Adam, learning rate 2e-4, beta_1 0.5.
        return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5, beta_2=0.999)

    def get_compile_config(self):
        if not self.compiled:
            return {}
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "jit_compile": self._jit_compile_setting,
            "steps_per_execution": self.steps_per_execution,
        }

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    # Training -------------------------------------------------------------------------------

    _maybe_symbolic_build = _skip_symbolic_build

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker]
        if self.penalty_tracker is not None:
            trackers.append(self.penalty_tracker)
        return trackers

    def _unpack(self, data):
        samples, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(samples, tuple | list):
            raise ValueError(
                "fit() expects a dataset of (samples, labels) or of samples alone; got a "
                f"nested structure of {len(samples)} inputs"
            )
        if self.pack > 1:
            message = (
                f"with pack={self.pack} every batch size must be a multiple of {self.pack} "
                "(batch with drop_remainder=True and a multiple)"
            )
            if samples.shape[0] is not None and samples.shape[0] % self.pack:
                raise ValueError(f"{message}; got batches of {samples.shape[0]}")
            tf.debugging.assert_equal(ops.shape(samples)[0] % self.pack, 0, message=message)
        if tuple(samples.shape[1:]) != self.sample_shape:
            raise ValueError(
                f"the networks were built for samples of shape {self.sample_shape} but the data "
                f"has shape {tuple(samples.shape[1:])}; rebuild the networks with that shape "
                "or resize the data (kgan.data.load(..., image_size=...))"
            )
        samples = ops.cast(samples, "float32")
        if not self.conditional:
            return samples, None
        if labels is None:
            raise ValueError(
                f"{type(self).__name__} needs labels: fit it on a dataset of "
                "(images, labels), such as kgan.data.load('mnist_5k')"
            )
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        tf.debugging.assert_non_negative(labels, message="labels must be >= 0")
        tf.debugging.assert_less(
            labels,
            self.num_classes,
            message=f"labels must be < num_classes={self.num_classes}",
        )
        return samples, labels

    def _net_inputs(self, x, labels):
        return x if labels is None else [x, labels]

    def _discriminate(self, samples, labels, training=True):
        return self.discriminator(self._net_inputs(samples, labels), training=training)

    def _pack(self, samples):
        """[batch, ..., c] -> [batch / pack, ..., pack * c]: consecutive samples side by side."""
        if self.pack == 1:
            return samples
        inner = samples.shape[1:-1]
        grouped = ops.reshape(samples, (-1, self.pack, *inner, samples.shape[-1]))
        # Move the group axis next to the channels, then merge the two.
        order = (0, *range(2, 2 + len(inner)), 1, 2 + len(inner))
        return ops.reshape(
            ops.transpose(grouped, order), (-1, *inner, self.pack * samples.shape[-1])
        )

    def _augment(self, samples):
        if not self.augment:
            return samples
        seed = distribute.replica_seed_generator(self.seed_generator)
        return augment_lib.diff_augment(samples, self.augment, seed=seed)

    def _discriminate_pair(self, real, fake, labels):
        """Logits of real and fake; one discriminator call on both when no layer mixes a batch."""
        if self._batch_dependent_discriminator:
            return self._discriminate(real, labels), self._discriminate(fake, labels)
        both_labels = None if labels is None else ops.concatenate([labels, labels], axis=0)
        logits = self._discriminate(ops.concatenate([real, fake], axis=0), both_labels)
        n = ops.shape(real)[0]
        return logits[:n], logits[n:]

    def _generate(self, latents, labels, training):
        return self.generator(self._net_inputs(latents, labels), training=training)

    def _d_penalty(self, real, fake, labels, alpha):
        def critic(x):
            return self._discriminate(x, labels, training=True)

        penalty = 0.0
        if self.gradient_penalty:
            # The interpolation weights come with the global batch's other draws (see
            # kgan.distribute.ReplicaBatch).
            penalty += self.gradient_penalty * losses_lib.gradient_penalty(
                critic, real, fake, alpha=alpha
            )
        if self.r1:
            penalty += 0.5 * self.r1 * losses_lib.r1_penalty(critic, real)
        return penalty

    def train_step(self, data):
        real, labels = self._unpack(data)
        logged = self._xla.whole(self._step)(real, labels)
        self.d_loss_tracker.update_state(logged[0])
        self.g_loss_tracker.update_state(logged[1])
        if self.penalty_tracker is not None:
            self.penalty_tracker.update_state(logged[2])
        return distribute.step_logs({m.name: m.result() for m in self.metrics})

    def _step(self, real, labels):
        """The step's draws and updates; returns the losses to log, global-batch means."""
        # Under a strategy this runs on each replica's share of the global batch; the draws,
        # the loss weights and the logged means are those of the global batch.
        layout = distribute.ReplicaBatch(ops.shape(real)[0])
        d_latents, alphas = [], []
        for _ in range(self.d_steps):
            d_latents.append(layout.normal((self.latent_dim,), self.seed_generator))
            if self.gradient_penalty:
                # One weight per sample the discriminator sees (a packed group of `pack`).
                alpha = ops.reshape(layout.uniform((), self.seed_generator), (-1, self.pack))
                alphas.append(ops.reshape(alpha[:, 0], (-1,) + (1,) * len(self.sample_shape)))
        g_latents = layout.normal((self.latent_dim,), self.seed_generator)
        losses = self._updates(real, labels, d_latents, alphas, g_latents, layout.weight())
        return layout.mean(losses)

    def _updates(self, real, labels, d_latents, alphas, g_latents, weight):
        """The step's `d_steps` discriminator updates and its generator update.

        Args:
            real: this replica's samples.
            labels: their labels, or None.
            d_latents: the latents of each discriminator update.
            alphas: the gradient penalty's interpolation weights of each discriminator update
                (empty without the penalty).
            g_latents: the latents of the generator update.
            weight: the replica's share of the global batch (1 on one device).

        Returns:
            `[d_loss, g_loss]` (and the penalty when there is one), this replica's batch means.
        """
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables
        penalty = None
        for step, latents in enumerate(d_latents):
            alpha = alphas[step] if alphas else None
            d_loss, penalty, grads = self._xla.part(self._d_gradients)(
                real, labels, latents, alpha, weight
            )
            distribute.apply_gradients(self.d_optimizer, grads, d_vars)
        g_loss, grads = self._xla.part(self._g_gradients)(labels, g_latents, weight)
        distribute.apply_gradients(self.g_optimizer, grads, g_vars)
        if self.ema_generator is not None:
            # Moving statistics (batch norm) are averaged along with the weights.
            n = ops.cast(self.g_optimizer.iterations, "float32")
            decay = ops.minimum(self.ema_decay, (1.0 + n) / (10.0 + n))
            for average, current in zip(self.ema_generator.weights, self.generator.weights):
                average.assign(decay * average + (1.0 - decay) * current)
        return [d_loss, g_loss] + ([] if penalty is None else [penalty])

    def _d_gradients(self, real, labels, latents, alpha, weight):
        """The discriminator's loss, penalty and gradients for one update.

        `weight` is the replica's share of the global batch (1 on one device).
        """
        fake = ops.stop_gradient(self._generate(latents, labels, training=True))
        # DiffAugment: the discriminator (and its penalty) sees real and fake augmented.
        real_seen = self._pack(self._augment(real))
        fake = self._pack(self._augment(fake))
        penalty = None
        with tf.GradientTape() as tape:
            d_loss = self.d_loss_fn(*self._discriminate_pair(real_seen, fake, labels))
            total = d_loss
            if self.penalty_tracker is not None:
                penalty = self._d_penalty(real_seen, fake, labels, alpha)
                total = total + penalty
            scaled = self.d_optimizer.scale_loss(total * weight)
        return d_loss, penalty, tape.gradient(scaled, self.discriminator.trainable_variables)

    def _g_gradients(self, labels, latents, weight):
        """The generator's loss and gradients; `weight` as for `_d_gradients`."""
        with tf.GradientTape() as tape:
            fake = self._pack(self._augment(self._generate(latents, labels, training=True)))
            fake_logits = self._discriminate(fake, labels)
            g_loss = self.g_loss_fn(fake_logits)
            objective = g_loss if self.top_k is None else self._top_k_objective(fake_logits)
            scaled = self.g_optimizer.scale_loss(objective * weight)
        return g_loss, tape.gradient(scaled, self.generator.trainable_variables)

    def _top_k_objective(self, fake_logits):
        """The generator's loss on its best-scored samples only (Sinha et al. 2020).

        The kept fraction starts at 1 and decays by `top_k_decay` per generator update down to
        `top_k`. The other samples enter the loss through `stop_gradient`, so they move nothing,
        and the result is rescaled so that its gradient is that of the mean loss over the kept
        samples (its value is not that mean; the step reports the loss over all of them).
        """
        logits = ops.reshape(ops.cast(fake_logits, "float32"), (-1,))
        n = ops.shape(logits)[0]
        step = ops.cast(self.g_optimizer.iterations, "float32")
        fraction = ops.maximum(self.top_k, ops.power(self.top_k_decay, step))
        k = ops.maximum(ops.cast(ops.floor(fraction * ops.cast(n, "float32")), "int32"), 1)
        threshold = ops.take(ops.flip(ops.sort(logits)), k - 1)
        keep = logits >= threshold
        kept = ops.cast(ops.sum(ops.cast(keep, "int32")), "float32")
        mixed = ops.where(keep, logits, ops.stop_gradient(logits))
        return self.g_loss_fn(ops.reshape(mixed, ops.shape(fake_logits))) * (
            ops.cast(n, "float32") / kept
        )

    def call(self, inputs, training=False):
        """Runs the generator: `inputs` is latents, or `[latents, labels]` when conditional."""
        return self.generator(inputs, training=training)

    # Generation -----------------------------------------------------------------------------

    def generate(self, num_samples=None, latents=None, labels=None, seed=None, batch_size=256):
        """Generates samples in the data's range (images in [-1, 1]).

        With `ema_decay` set, the moving average of the generator draws them.

        Args:
            num_samples: how many samples; inferred from `latents` or `labels` when omitted.
            latents: `[n, latent_dim]` latents; drawn from N(0, I) when omitted.
            labels: `[n]` int class labels of a conditional model; when omitted, the classes
                are cycled `0, 1, ..., num_classes - 1, 0, ...`. An int gives every sample
                that class.
            seed: int seed of the drawn latents, for reproducible samples.
            batch_size: samples per generator call.

        Returns:
            A numpy array `[n, *sample_shape]` of float32.

        Example:
            >>> grid = cgan.generate(labels=np.repeat(np.arange(10), 8), seed=0)
        """
        latents, labels = self._generation_inputs(num_samples, latents, labels, seed)
        if self._generate_fn is None:
            self._generate_fn = tf.function(self._generate_for_inference, reduce_retracing=True)
        outputs = []
        for start in range(0, latents.shape[0], batch_size):
            z = latents[start : start + batch_size]
            y = None if labels is None else labels[start : start + batch_size]
            outputs.append(np.asarray(self._generate_fn(z, y)))
        return np.concatenate(outputs, axis=0)

    def _generate_for_inference(self, latents, labels):
        generator = self.ema_generator if self.ema_generator is not None else self.generator
        return generator(self._net_inputs(latents, labels), training=False)

    def _generation_inputs(self, num_samples, latents, labels, seed):
        if labels is not None and not self.conditional:
            raise ValueError(f"{type(self).__name__} is unconditional: do not pass labels")
        if labels is not None and not np.isscalar(labels):
            labels = np.asarray(labels)
            if labels.ndim != 1:
                raise ValueError(f"labels must be a 1-D array of ints; got shape {labels.shape}")
            if num_samples is None:
                num_samples = labels.shape[0]
        if latents is not None:
            latents = np.asarray(latents, dtype="float32")
            if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
                raise ValueError(
                    f"latents must have shape (n, {self.latent_dim}); got {latents.shape}"
                )
            if num_samples is None:
                num_samples = latents.shape[0]
        if num_samples is None:
            raise ValueError("pass num_samples, latents or labels to say how many samples")
        if not isinstance(num_samples, int | np.integer) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int; got {num_samples!r}")
        if latents is None:
            rng = np.random.default_rng(seed)
            latents = rng.standard_normal((num_samples, self.latent_dim)).astype("float32")
        elif latents.shape[0] != num_samples:
            raise ValueError(f"got {latents.shape[0]} latents for num_samples={num_samples}")
        if not self.conditional:
            return latents, None
        if labels is None:
            labels = np.arange(num_samples) % self.num_classes
        elif np.isscalar(labels):
            labels = np.full((num_samples,), labels)
        if labels.shape[0] != num_samples:
            raise ValueError(f"got {labels.shape[0]} labels for num_samples={num_samples}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers; got dtype {labels.dtype}")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(
                f"labels must be in [0, {self.num_classes}); got values from {labels.min()} "
                f"to {labels.max()}"
            )
        return latents, labels.astype("int32")

    # Export ---------------------------------------------------------------------------------

    def inference_module(self):
        """A `tf.Module` that tracks the generator that `generate` uses (the EMA generator when
        there is one) and serves it; the discriminator, optimizers and trainer stay out.

        Example:
            >>> module = cgan.inference_module()
            >>> tf.saved_model.save(module, path, signatures=module.signatures())
        """
        return GANInferenceModule(self)

    def inference_functions(self):
        """`{"generate", "sample"}` -> traced functions with fixed input signatures.

        `generate(z, labels)`: `z` float32 `[None, latent_dim]` (and `labels` int32 `[None]`
        for a conditional model) -> `{"images": [None, *sample_shape]}` in the data's range
        (the key is `"samples"` for vector data). `sample(num_samples, seed)`: int32 scalars ->
        the same output for latents drawn in the graph with `tf.random.stateless_normal` from
        the seed `[seed, 0]`, so one seed always gives the same samples; a conditional model
        cycles the labels `0, 1, ..., num_classes - 1, 0, ...` as `generate` does without
        labels (pass chosen labels to `generate` instead). The functions read the generator's
        variables: save them under `inference_module()` as the root object.

        Example:
            >>> functions = cgan.inference_functions()
            >>> functions["sample"](tf.constant(16), tf.constant(0))["images"].shape
            TensorShape([16, 28, 28, 1])
        """
        return self.inference_module().signatures()


class GANInferenceModule(tf.Module):
    """A trained `kgan.GAN`'s generator and the functions that export it.

    Args:
        model: a `kgan.GAN`, `kgan.ConditionalGAN` or `kgan.WGANGP`.

    Example:
        >>> module = kgan.models.gan.GANInferenceModule(cgan)
        >>> tf.saved_model.save(module, "cgan_model", signatures=module.signatures())
    """

    def __init__(self, model):
        super().__init__(name=f"{model.name}_inference")
        generator = model.ema_generator if model.ema_generator is not None else model.generator
        self.generator = generator
        # Tracked as plain variables so that SavedModel and the TFLite converter find them.
        self.generator_variables = [v.value for v in generator.weights]
        self._latent_dim = model.latent_dim
        self._num_classes = model.num_classes if model.conditional else None
        self._key = "images" if len(model.sample_shape) == 3 else "samples"
        z_spec = tf.TensorSpec([None, model.latent_dim], tf.float32, name="z")
        if self._num_classes is None:
            self.generate = tf.function(lambda z: self._outputs(z, None), input_signature=[z_spec])
        else:
            labels_spec = tf.TensorSpec([None], tf.int32, name="labels")
            self.generate = tf.function(self._outputs, input_signature=[z_spec, labels_spec])
        self.sample = tf.function(
            self._sample,
            input_signature=[
                tf.TensorSpec([], tf.int32, name="num_samples"),
                tf.TensorSpec([], tf.int32, name="seed"),
            ],
        )

    def _outputs(self, z, labels):
        inputs = z if labels is None else [z, labels]
        samples = self.generator(inputs, training=False)
        return {self._key: tf.cast(samples, tf.float32)}

    def _sample(self, num_samples, seed):
        z = tf.random.stateless_normal(
            tf.stack([num_samples, self._latent_dim]), seed=tf.stack([seed, 0])
        )  # [num_samples, latent_dim]
        labels = None
        if self._num_classes is not None:
            labels = tf.range(num_samples, dtype=tf.int32) % self._num_classes
        return self._outputs(z, labels)

    def signatures(self):
        """`{"generate", "sample"}` -> traced functions, ready for
        `tf.saved_model.save(self, path, signatures=...)`."""
        return {"generate": self.generate, "sample": self.sample}


@keras.saving.register_keras_serializable(package="kgan")
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


@keras.saving.register_keras_serializable(package="kgan")
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

    def _default_optimizer(self):
        return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.0, beta_2=0.9)
