"""The variational autoencoder: ELBO training, IWAE likelihoods and a learnable mixture prior.

`VAE` is defined in `kgan.models.vae.trainer`, its distributions in
`kgan.models.vae.distributions`, its step's math in `kgan.models.vae.training`, its own inference
in `kgan.models.vae.inference`, the mixture prior's methods in `kgan.models.vae.mixture_prior`;
what it shares with the VAE-GAN (encoding, decoding, the step wrappers, export) in
`kgan.models.encoder_decoder`.
"""

from kgan.models.encoder_decoder import EncoderDecoderInferenceModule as VAEInferenceModule
from kgan.models.vae.distributions import KL_ESTIMATORS, LIKELIHOODS, PRIORS
from kgan.models.vae.trainer import VAE

# Saved models and preset metadata record the module of a trainer's class: this package.
VAE.__module__ = __name__

__all__ = ["KL_ESTIMATORS", "LIKELIHOODS", "PRIORS", "VAE", "VAEInferenceModule"]
