"""The VAE's step math: the negative ELBO from one posterior sample (the step wrappers are
`kgan.models.encoder_decoder.EncoderDecoderTrainer`'s)."""

import tensorflow as tf
from keras import ops

from kgan import distribute


class VAETrainingMixin:
    """The training and evaluation math of `kgan.models.VAE`."""

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

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
