"""The VAE's distributions, made inside the step from its networks and weights: the posterior
q(z|x), the prior p(z), the likelihood p(x|z) and the KL term."""

import numpy as np
import tensorflow_probability as tfp
from keras import ops

from kgan.models.encoder_decoder import POSTERIOR_MIN_SCALE

tfd = tfp.distributions

LIKELIHOODS = ("bernoulli", "gaussian", "laplace")
PRIORS = ("normal", "mixture")
KL_ESTIMATORS = ("auto", "analytic", "monte_carlo")
# The floor that keeps the likelihood's softplus scales away from zero.
_LIKELIHOOD_MIN_SCALE = 1e-3


def inverse_softplus(y):
    """`x` with `softplus(x) = y`, float32 (for initial and assigned raw scales)."""
    y = np.asarray(y, dtype="float64")
    return (y + np.log(-np.expm1(-y))).astype("float32")


class VAEDistributionsMixin:
    """The `tfd` distributions of `kgan.models.VAE` (see there for the options they read)."""

    def _prior(self):
        if self.prior == "normal":
            return tfd.MultivariateNormalDiag(
                loc=ops.zeros((self.latent_dim,)), scale_diag=ops.ones((self.latent_dim,))
            )
        scales = ops.softplus(self.prior_raw_scales.value) + POSTERIOR_MIN_SCALE  # [k, latent]
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
