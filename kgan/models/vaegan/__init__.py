"""The VAE-GAN: a VAE whose reconstruction error is measured in a discriminator's features.

`VAEGAN` is defined in `kgan.models.vaegan.trainer`, its step in `kgan.models.vaegan.training`,
inference and export in `kgan.models.vaegan.inference`, the choice of the discriminator's
feature layer in `kgan.models.vaegan.feature_layer`.
"""

from kgan.models.vaegan.trainer import VAEGAN

# Saved models and preset metadata record the module of a trainer's class: this package.
VAEGAN.__module__ = __name__

__all__ = ["VAEGAN"]
