"""Trainers: subclassed `keras.Model`s with their own `train_step`, registered by name.

`kgan.models.base` declares the protocol (`Trainer`) and holds the registry
(`register_trainer`, `TRAINERS`); each family lives in a subpackage.
"""

from kgan.models.base import (
    TRAINERS,
    Trainer,
    get_trainer,
    list_trainers,
    register_trainer,
    unregister_trainer,
)
from kgan.models.bigan import BiGAN
from kgan.models.clustergan import ClusterGAN
from kgan.models.encoder_decoder import EncoderDecoderTrainer
from kgan.models.factory import build_trainer, build_vae, build_vaegan
from kgan.models.gan import GAN, WGANGP, ConditionalGAN
from kgan.models.infogan import InfoGAN
from kgan.models.refinement import discriminator_latent_refinement
from kgan.models.rejection import discriminator_rejection_sample
from kgan.models.vae import VAE
from kgan.models.vaegan import VAEGAN

__all__ = [
    "GAN",
    "TRAINERS",
    "InfoGAN",
    "BiGAN",
    "ClusterGAN",
    "VAE",
    "VAEGAN",
    "WGANGP",
    "ConditionalGAN",
    "EncoderDecoderTrainer",
    "Trainer",
    "build_trainer",
    "build_vae",
    "build_vaegan",
    "discriminator_latent_refinement",
    "discriminator_rejection_sample",
    "get_trainer",
    "list_trainers",
    "register_trainer",
    "unregister_trainer",
]
