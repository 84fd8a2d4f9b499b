"""A trained VAE's own inference: the decoder's mean, the prior's latents and IWAE
likelihoods (encoding, decoding, `generate` and export are the VAE family's, see
`kgan.models.encoder_decoder`)."""

import numpy as np
import tensorflow as tf
from keras import ops

from kgan import sampling
from kgan.models.vae.distributions import tfd

# Decoder calls per traced call of the importance-sampled likelihood: bounds its memory.
_DECODES_PER_CALL = 16384


class VAEInferenceMixin:
    """The VAE's own inference: its decoder's mean, its prior's draws and IWAE likelihoods."""

    def _decode_mean(self, z):
        return self._mean(ops.cast(self.decoder(z, training=False), "float32"))

    def _draw_latents(self, num_samples, seed):
        """`generate`'s latents from the prior: N(0, I) by the sampling contract; for the
        mixture prior, the components drawn by weight from the same generator after them;
        with `sampling="ex_post"`, from the ex-post mixture (`kgan.models.ex_post`)."""
        if self._ex_post_active():
            return self.ex_post_latents(num_samples, seed)
        if self.prior != "mixture":
            return sampling.draw_latents(num_samples, self.latent_dim, seed)
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((num_samples, self.latent_dim))  # float64, then components
        weights, means, scales = self._prior_arrays()
        components = rng.choice(self.num_components, size=num_samples, p=weights)
        return (means[components] + scales[components] * noise).astype("float32")

    def _iwae_chunk(self, x, loc, scale, noise):
        """logsumexp over `[samples]` of the log importance weights, `[batch]`."""
        z = loc + scale * noise  # [samples, batch, latent]
        samples, batch = ops.shape(noise)[0], ops.shape(noise)[1]
        flat = ops.reshape(z, (-1, self.latent_dim))
        outputs = ops.cast(self.decoder(flat, training=False), "float32")
        outputs = ops.reshape(outputs, (samples, batch, *outputs.shape[1:]))
        log_px_z = self._likelihood(outputs).log_prob(self._target(x))  # [samples, batch]
        log_pz = self._prior().log_prob(z)
        log_qz = tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale).log_prob(z)
        return ops.logsumexp(log_px_z + log_pz - log_qz, axis=0)

    def log_likelihood(self, x, num_samples=1000, batch_size=100, seed=None):
        """Importance-weighted estimate of log p(x) per example (Burda et al. 2016).

        `log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)` with `z_i ~ q(z|x)`: a lower bound on
        log p(x) that tightens as `k = num_samples` grows (k=1 is a one-sample ELBO). The
        samples are drawn and decoded in chunks, so k in the thousands fits in memory. For the
        Bernoulli likelihood the figure is in nats of the data mapped to [0, 1].

        Args:
            x: `[n, *shape]` float data.
            num_samples: importance samples per example.
            batch_size: examples per chunk.
            seed: int seed of the samples.

        Returns:
            A numpy array `[n]` of float64 log-likelihoods in nats.

        Example:
            >>> x, _ = kgan.data.load_arrays("mnist_5k", split="test")
            >>> vae.log_likelihood(np.where(x > 0, 1.0, -1.0), num_samples=5000).mean()
        """
        x = self._check_samples(x)
        num_samples = sampling.check_positive_int("num_samples", num_samples)
        batch_size = sampling.check_positive_int("batch_size", batch_size)
        if self._iwae_fn is None:
            self._iwae_fn = tf.function(self._iwae_chunk, reduce_retracing=True)
        loc, scale = self._posterior_arrays(x, batch_size)
        rng = np.random.default_rng(seed)
        result = []
        for start in range(0, x.shape[0], batch_size):
            stop = min(start + batch_size, x.shape[0])
            chunk = max(1, _DECODES_PER_CALL // (stop - start))
            total = np.full(stop - start, -np.inf)
            for drawn in range(0, num_samples, chunk):
                shape = (min(chunk, num_samples - drawn), stop - start, self.latent_dim)
                noise = rng.standard_normal(shape).astype("float32")
                part = self._iwae_fn(x[start:stop], loc[start:stop], scale[start:stop], noise)
                total = np.logaddexp(total, np.asarray(part, "float64"))
            result.append(total - np.log(num_samples))
        return np.concatenate(result)

    def _inference_variables(self):
        own = [self.log_scale]
        if self.prior == "mixture":
            own += [self.prior_logits, self.prior_means, self.prior_raw_scales]
        return [v for v in own if v is not None]
