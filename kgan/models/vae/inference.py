"""A trained VAE's inference: encoding, decoding, sampling and IWAE likelihoods for numpy
callers, and `VAEInferenceModule` for export."""

import numpy as np
import tensorflow as tf
from keras import ops

from kgan.models.vae.distributions import tfd

# Decoder calls per traced call of the importance-sampled likelihood: bounds its memory.
_DECODES_PER_CALL = 16384


class VAEInferenceMixin:
    """Inference and export of `kgan.models.VAE`."""

    # Inference ------------------------------------------------------------------------------

    def _check_data(self, x):
        x = np.asarray(x)
        if x.ndim != len(self.data_shape) + 1 or tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"x must have shape (n, {', '.join(map(str, self.data_shape))}); got {x.shape}"
            )
        if not np.issubdtype(x.dtype, np.floating):
            raise ValueError(
                f"x must be floats (images in [-1, 1], as kgan.data gives them); got {x.dtype}"
            )
        return x.astype("float32")

    def _check_latents(self, z):
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"latents must have shape (n, {self.latent_dim}); got {z.shape}")
        return z

    def _posterior_arrays(self, x, batch_size):
        if self._encode_fn is None:
            self._encode_fn = tf.function(self._posterior_params, reduce_retracing=True)
        locs, scales = [], []
        for start in range(0, x.shape[0], batch_size):
            loc, scale = self._encode_fn(x[start : start + batch_size])
            locs.append(np.asarray(loc))
            scales.append(np.asarray(scale))
        return np.concatenate(locs), np.concatenate(scales)

    def encode(self, x, sample=False, seed=None, batch_size=256):
        """Maps data to latents: the posterior mean, or one sample of q(z|x).

        Args:
            x: `[n, *shape]` float data (images in [-1, 1]).
            sample: draw `z ~ q(z|x)` instead of returning its mean.
            seed: int seed of the sample.
            batch_size: examples per encoder call.

        Returns:
            A numpy array `[n, latent_dim]` of float32.

        Example:
            >>> z = vae.encode(x_test)  # posterior means
        """
        loc, scale = self._posterior_arrays(self._check_data(x), batch_size)
        if not sample:
            return loc
        noise = np.random.default_rng(seed).standard_normal(loc.shape).astype("float32")
        return loc + scale * noise

    def posterior(self, x, batch_size=256):
        """q(z|x) for every example, as a `tfd.MultivariateNormalDiag` of batch shape `[n]`.

        Example:
            >>> q = vae.posterior(x_test[:8])
            >>> q.stddev().shape
            TensorShape([8, 16])
        """
        loc, scale = self._posterior_arrays(self._check_data(x), batch_size)
        return tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)

    def _decode_mean(self, z):
        return self._mean(ops.cast(self.decoder(z, training=False), "float32"))

    def decode(self, z, batch_size=256):
        """Maps latents to the likelihood's mean in the data's range.

        For the Bernoulli likelihood that is `2 p - 1` in [-1, 1]; for the others the location.

        Args:
            z: `[n, latent_dim]` latents.
            batch_size: latents per decoder call.

        Returns:
            A numpy array `[n, *shape]` of float32.

        Example:
            >>> images = vae.decode(np.zeros((1, vae.latent_dim)))
        """
        z = self._check_latents(z)
        if self._decode_fn is None:
            self._decode_fn = tf.function(self._decode_mean, reduce_retracing=True)
        outputs = [
            np.asarray(self._decode_fn(z[start : start + batch_size]))
            for start in range(0, z.shape[0], batch_size)
        ]
        if not outputs:
            return np.zeros((0, *self.data_shape), "float32")
        return np.concatenate(outputs)

    def reconstruct(self, x, sample=False, seed=None, batch_size=256):
        """`decode(encode(x))`: the likelihood's mean at the posterior mean (or a sample).

        Example:
            >>> kgan.image_grid.save_image_grid(vae.reconstruct(x_test[:64]), "recon.png")
        """
        return self.decode(self.encode(x, sample, seed, batch_size), batch_size)

    def generate(self, num_samples=None, latents=None, seed=None, batch_size=256):
        """Decodes latents drawn from the prior (the mixture's components drawn by weight).

        Args:
            num_samples: how many samples; inferred from `latents` when omitted.
            latents: `[n, latent_dim]` latents; drawn from the prior when omitted.
            seed: int seed of the drawn latents.
            batch_size: latents per decoder call.

        Returns:
            A numpy array `[n, *shape]` of float32: the likelihood's means in the data's range.

        Example:
            >>> kgan.image_grid.save_image_grid(vae.generate(64, seed=0), "samples.png")
        """
        if latents is not None:
            latents = self._check_latents(latents)
            if num_samples is not None and num_samples != latents.shape[0]:
                raise ValueError(f"got {latents.shape[0]} latents for num_samples={num_samples}")
            return self.decode(latents, batch_size)
        if num_samples is None:
            raise ValueError("pass num_samples or latents to say how many samples")
        if not isinstance(num_samples, int | np.integer) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int; got {num_samples!r}")
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((num_samples, self.latent_dim))
        if self.prior == "mixture":
            weights, means, scales = self._prior_arrays()
            components = rng.choice(self.num_components, size=num_samples, p=weights)
            noise = means[components] + scales[components] * noise
        return self.decode(noise.astype("float32"), batch_size)

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
        x = self._check_data(x)
        if not isinstance(num_samples, int | np.integer) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int; got {num_samples!r}")
        if not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
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

    # Export ---------------------------------------------------------------------------------

    def inference_module(self):
        """A `tf.Module` that tracks the networks (not the optimizer) and serves them.

        Its traced functions: `encode(x)` (`[None, *shape]` float32 -> posterior means
        `[None, latent_dim]`), `decode(z)` and `generate(z)` (`[None, latent_dim]` float32 ->
        `[None, *shape]` in the data's range; `generate` takes latents the caller drew from the
        prior).

        Example:
            >>> module = vae.inference_module()
            >>> tf.saved_model.save(module, path, signatures=module.signatures())
        """
        return VAEInferenceModule(self)

    def inference_functions(self):
        """`{"encode", "decode", "generate"}` -> traced functions with fixed input signatures
        (see `inference_module`). They read the model's variables: save them under the model
        or under `inference_module()` as the root object."""
        return self.inference_module().signatures()


class VAEInferenceModule(tf.Module):
    """A trained `kgan.models.VAE`'s (or `kgan.models.VAEGAN`'s) networks and the functions
    that export them.

    Args:
        model: a `kgan.models.VAE` or `kgan.models.VAEGAN`.

    Example:
        >>> module = kgan.models.vae.VAEInferenceModule(vae)
        >>> tf.saved_model.save(module, "vae_model", signatures=module.signatures())
    """

    def __init__(self, model):
        super().__init__(name=f"{model.name}_inference")
        self.encoder = model.encoder
        self.decoder = model.decoder
        own = [getattr(model, "log_scale", None)]
        if getattr(model, "prior", "normal") == "mixture":
            own += [model.prior_logits, model.prior_means, model.prior_raw_scales]
        self.own_variables = [v.value for v in own if v is not None]
        x_spec = tf.TensorSpec([None, *model.data_shape], tf.float32, name="x")
        z_spec = tf.TensorSpec([None, model.latent_dim], tf.float32, name="z")
        self.encode = tf.function(lambda x: model._posterior_params(x)[0], input_signature=[x_spec])
        self.decode = tf.function(model._decode_mean, input_signature=[z_spec])
        self.generate = tf.function(model._decode_mean, input_signature=[z_spec])

    def signatures(self):
        """`{"encode", "decode", "generate"}` -> traced functions, ready for
        `tf.saved_model.save(self, path, signatures=...)`."""
        return {"encode": self.encode, "decode": self.decode, "generate": self.generate}
