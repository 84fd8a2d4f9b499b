"""The adversarial `train_step`: one loop for every GAN of the family, parameterized by the
loss, the discriminator's regularizers, augmentation, packing and top-k."""

import keras
import tensorflow as tf
from keras import ops

from kgan import augment as augment_lib
from kgan import distribute
from kgan import losses as losses_lib


class GANTrainingMixin:
    """The training step of `kgan.GAN` (see there for the options it reads)."""

    # Trackers of losses a subclass's generator update adds (see `_g_gradients`), in order.
    _extra_trackers = ()

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker]
        if self.penalty_tracker is not None:
            trackers.append(self.penalty_tracker)
        return trackers + list(self._extra_trackers)

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
        if self.r1 and self.r1_interval == 1:
            penalty += 0.5 * self.r1 * losses_lib.r1_penalty(critic, real)
        elif self.r1:
            weight = 0.5 * self.r1 * self.r1_interval
            penalty += ops.cond(
                ops.equal(self.d_optimizer.iterations % self.r1_interval, 0),
                lambda: weight * losses_lib.r1_penalty(critic, real),
                lambda: ops.zeros((), dtype="float32"),
            )
        return penalty

    def train_step(self, data):
        real, labels = self._unpack(data)
        logged = self._xla.whole(self._step)(real, labels)
        for tracker, value in zip(self.metrics, logged, strict=True):
            tracker.update_state(value)
        return distribute.step_logs({m.name: m.result() for m in self.metrics})

    def _step_latents(self, layout):
        """The latents of one update for this replica's rows: N(0, I) `[local, latent_dim]`."""
        return layout.normal((self.latent_dim,), self.seed_generator)

    def _generator_variables(self):
        """The variables the generator update trains."""
        return self.generator.trainable_variables

    def _step(self, real, labels):
        """The step's draws and updates; returns the losses to log, global-batch means."""
        # Under a strategy this runs on each replica's share of the global batch; the draws,
        # the loss weights and the logged means are those of the global batch.
        layout = distribute.ReplicaBatch(ops.shape(real)[0])
        d_latents, alphas = [], []
        for _ in range(self.d_steps):
            d_latents.append(self._step_latents(layout))
            if self.gradient_penalty:
                # One weight per sample the discriminator sees (a packed group of `pack`).
                alpha = ops.reshape(layout.uniform((), self.seed_generator), (-1, self.pack))
                alphas.append(ops.reshape(alpha[:, 0], (-1,) + (1,) * len(self.sample_shape)))
        g_latents = self._step_latents(layout)
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
            `[d_loss, g_loss]`, the penalty when there is one, then the generator update's own
            losses (see `_g_gradients`): this replica's batch means.
        """
        d_vars = self._discriminator_variables()
        g_vars = self._generator_variables()
        penalty = None
        for step, latents in enumerate(d_latents):
            alpha = alphas[step] if alphas else None
            d_loss, penalty, grads = self._xla.part(self._d_gradients)(
                real, labels, latents, alpha, weight
            )
            distribute.apply_gradients(self.d_optimizer, grads, d_vars)
        g_loss, grads, extra = self._xla.part(self._g_gradients)(real, labels, g_latents, weight)
        distribute.apply_gradients(self.g_optimizer, grads, g_vars)
        if self.ema_generator is not None:
            # Moving statistics (batch norm) are averaged along with the weights.
            n = ops.cast(self.g_optimizer.iterations, "float32")
            decay = ops.minimum(self.ema_decay, (1.0 + n) / (10.0 + n))
            for average, current in zip(self.ema_generator.weights, self.generator.weights):
                average.assign(decay * average + (1.0 - decay) * current)
        return [d_loss, g_loss] + ([] if penalty is None else [penalty]) + list(extra)

    def _d_gradients(self, real, labels, latents, alpha, weight):
        """The discriminator's loss, penalty and gradients for one update.

        `weight` is the replica's share of the global batch (1 on one device).
        """
        generated = ops.stop_gradient(self._generate(latents, labels, training=True))
        # DiffAugment: the discriminator (and its penalty) sees real and fake augmented.
        real_seen = self._pack(self._augment(real))
        fake = self._pack(self._augment(generated))
        penalty = None
        with tf.GradientTape() as tape:
            d_loss = self.d_loss_fn(*self._discriminate_pair(real_seen, fake, labels))
            total = d_loss
            if self.penalty_tracker is not None:
                penalty = self._d_penalty(real_seen, fake, labels, alpha)
                total = total + penalty
            extra = self._extra_discriminator_loss(real, latents, generated)
            if extra is not None:
                total = total + extra
            scaled = self.d_optimizer.scale_loss(total * weight)
        return d_loss, penalty, tape.gradient(scaled, self._discriminator_variables())

    def _discriminator_variables(self):
        """The variables the discriminator update trains."""
        return self.discriminator.trainable_variables

    def _extra_discriminator_loss(self, real, latents, generated):
        """A loss added to the discriminator's objective from the update's real samples,
        latents and generated samples (before augmentation and packing); None here."""
        return None

    def _g_gradients(self, real, labels, latents, weight):
        """The generator's loss, gradients and extra losses; `weight` as for `_d_gradients`.

        `real` (this replica's samples) is unused here; a subclass whose generator-side
        networks read data (BiGAN's encoder) takes it.

        Returns:
            `(g_loss, gradients of _generator_variables(), [extra losses])`; the extra losses
            (none here) are logged by `_extra_trackers`.
        """
        with tf.GradientTape() as tape:
            fake = self._generate(latents, labels, training=True)
            fake_logits = self._discriminate(self._pack(self._augment(fake)), labels)
            g_loss = self.g_loss_fn(fake_logits)
            objective = g_loss if self.top_k is None else self._top_k_objective(fake_logits)
            extra = self._extra_generator_losses(latents, fake)
            for weight_and_loss in extra.values():
                objective = objective + weight_and_loss[0] * weight_and_loss[1]
            scaled = self.g_optimizer.scale_loss(objective * weight)
        grads = tape.gradient(scaled, self._generator_variables())
        return g_loss, grads, [loss for _, loss in extra.values()]

    def _extra_generator_losses(self, latents, fake):
        """`{name: (weight, loss)}` added to the generator's objective (batch means); none here."""
        return {}

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
