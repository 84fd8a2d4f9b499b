"""The VAE's learnable mixture prior outside the step: setting it from a fitted mixture and
clustering with it."""

import numpy as np

from kgan.models.encoder_decoder import POSTERIOR_MIN_SCALE
from kgan.models.vae.distributions import inverse_softplus


class MixturePriorMixin:
    """The mixture prior's methods of `kgan.models.VAE`; they need `prior="mixture"`."""

    def _require_mixture(self, method):
        if self.prior != "mixture":
            raise ValueError(
                f"{method} needs a mixture prior; this VAE has prior={self.prior!r}: build it "
                "with prior='mixture'"
            )

    def _prior_arrays(self):
        """The mixture prior as numpy `(weights [k], means [k, latent], scales [k, latent])`."""
        logits = np.asarray(self.prior_logits.numpy(), "float64")
        weights = np.exp(logits - logits.max())
        scales = np.log1p(np.exp(np.asarray(self.prior_raw_scales.numpy(), "float64")))
        return weights / weights.sum(), self.prior_means.numpy(), scales + POSTERIOR_MIN_SCALE

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
        scales = np.maximum(np.sqrt(variances) - POSTERIOR_MIN_SCALE, 1e-6)
        self.prior_logits.assign(np.log(weights / weights.sum()).astype("float32"))
        self.prior_means.assign(means.astype("float32"))
        self.prior_raw_scales.assign(inverse_softplus(scales))

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

    def cluster(self, x, batch_size=256):
        """`[n]` cluster ids: the mixture prior's most probable component (the interface every
        kgan model that learns clusters shares; the same as `predict_clusters`)."""
        return self.predict_clusters(x, batch_size)
