"""The VAE's `train_step` and `test_step`: the negative ELBO from one posterior sample."""

import keras
import tensorflow as tf
from keras import ops

from kgan import distribute


class VAETrainingMixin:
    """The training and evaluation steps of `kgan.models.VAE`."""

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
