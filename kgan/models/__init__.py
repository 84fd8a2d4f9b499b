"""Trainers: subclassed `keras.Model`s with their own `train_step`."""

from kgan.models.factory import TRAINERS, build_trainer, build_vae
from kgan.models.gan import GAN, WGANGP, ConditionalGAN
from kgan.models.vae import VAE

__all__ = ["GAN", "TRAINERS", "VAE", "WGANGP", "ConditionalGAN", "build_trainer", "build_vae"]
