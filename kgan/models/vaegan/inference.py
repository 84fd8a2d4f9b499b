"""A trained VAE-GAN's inference: encoding, decoding and sampling for numpy callers, and its
export through `kgan.models.vae.VAEInferenceModule`."""

import numpy as np
from keras import ops

from kgan.models.vae import VAE, VAEInferenceModule


class VAEGANInferenceMixin:
    """Inference and export of `kgan.models.VAEGAN`."""

    # Inference ------------------------------------------------------------------------------

    _check_data = VAE._check_data
    _check_latents = VAE._check_latents
    _posterior_arrays = VAE._posterior_arrays

    def _decode_mean(self, z):
        return ops.cast(self.decoder(z, training=False), "float32")

    def encode(self, x, sample=False, seed=None, batch_size=256):
        """Maps images to latents: the posterior mean, or one sample of q(z|x).

        Args:
            x: `[n, *shape]` float images in [-1, 1].
            sample: draw `z ~ q(z|x)` instead of returning its mean.
            seed: int seed of the sample.
            batch_size: images per encoder call.

        Returns:
            A numpy array `[n, latent_dim]` of float32.

        Example:
            >>> z = vaegan.encode(x_test)  # posterior means
        """
        return VAE.encode(self, x, sample=sample, seed=seed, batch_size=batch_size)

    def posterior(self, x, batch_size=256):
        """q(z|x) for every image, as a `tfd.MultivariateNormalDiag` of batch shape `[n]`.

        Example:
            >>> vaegan.posterior(x_test[:8]).stddev().shape
            TensorShape([8, 32])
        """
        loc, scale = self._posterior_arrays(self._check_data(x), batch_size)
        return self._posterior(loc, scale)

    def prior_distribution(self):
        """p(z), the standard normal `tfd.MultivariateNormalDiag` of size `latent_dim`."""
        return self._prior()

    def decode(self, z, batch_size=256):
        """Maps latents to images in [-1, 1] with the decoder (the generator).

        Args:
            z: `[n, latent_dim]` latents.
            batch_size: latents per decoder call.

        Returns:
            A numpy array `[n, *shape]` of float32.

        Example:
            >>> images = vaegan.decode(np.zeros((1, vaegan.latent_dim)))
        """
        return VAE.decode(self, z, batch_size=batch_size)

    def reconstruct(self, x, sample=False, seed=None, batch_size=256):
        """`decode(encode(x))`: the decoder at the posterior mean (or at a sample).

        Example:
            >>> kgan.image_grid.save_image_grid(vaegan.reconstruct(x_test[:64]), "recon.png")
        """
        return self.decode(self.encode(x, sample, seed, batch_size), batch_size)

    def generate(self, num_samples=None, latents=None, seed=None, batch_size=256):
        """Decodes latents drawn from the prior N(0, I).

        Args:
            num_samples: how many images; inferred from `latents` when omitted.
            latents: `[n, latent_dim]` latents; drawn from N(0, I) when omitted.
            seed: int seed of the drawn latents.
            batch_size: latents per decoder call.

        Returns:
            A numpy array `[n, *shape]` of float32 in [-1, 1].

        Example:
            >>> kgan.image_grid.save_image_grid(vaegan.generate(64, seed=0), "samples.png")
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
        noise = np.random.default_rng(seed).standard_normal((num_samples, self.latent_dim))
        return self.decode(noise.astype("float32"), batch_size)

    # Export ---------------------------------------------------------------------------------

    def inference_module(self):
        """A `tf.Module` that tracks the encoder and decoder (not the discriminator or the
        optimizers) and serves them.

        Its traced functions: `encode(x)` (`[None, *shape]` float32 -> posterior means
        `[None, latent_dim]`), `decode(z)` and `generate(z)` (`[None, latent_dim]` float32 ->
        images `[None, *shape]` in [-1, 1]; `generate` takes latents the caller drew from
        N(0, I)).

        Example:
            >>> module = vaegan.inference_module()
            >>> tf.saved_model.save(module, path, signatures=module.signatures())
        """
        return VAEInferenceModule(self)

    def inference_functions(self):
        """`{"encode", "decode", "generate"}` -> traced functions with fixed input signatures
        (see `inference_module`). They read the model's variables: save them under the model
        or under `inference_module()` as the root object."""
        return self.inference_module().signatures()
