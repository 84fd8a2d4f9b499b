"""Trainers: subclassed `keras.Model`s with their own `train_step`."""

from kgan.models.factory import TRAINERS, build_trainer, build_vae, build_vaegan
from kgan.models.gan import GAN, WGANGP, ConditionalGAN
from kgan.models.refinement import discriminator_latent_refinement
from kgan.models.rejection import discriminator_rejection_sample
from kgan.models.vae import VAE
from kgan.models.vaegan import VAEGAN

__all__ = [
    "GAN",
    "TRAINERS",
    "VAE",
    "VAEGAN",
    "WGANGP",
    "ConditionalGAN",
    "build_trainer",
    "build_vae",
    "build_vaegan",
    "discriminator_latent_refinement",
    "discriminator_rejection_sample",
]
