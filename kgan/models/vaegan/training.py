"""The VAE-GAN's `train_step` and `test_step`: one forward pass, three networks updated, each
with its own objective."""

import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from kgan import distribute

tfd = tfp.distributions


class VAEGANTrainingMixin:
    """The training and evaluation steps of `kgan.models.VAEGAN`."""

    @property
    def metrics(self):
        return [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.kl_tracker,
            self.reconstruction_tracker,
            self.pixel_mse_tracker,
        ]

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
