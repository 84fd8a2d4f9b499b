"""Trainers: subclassed `keras.Model`s with their own `train_step`."""

from kgan.models.factory import TRAINERS, build_trainer
from kgan.models.gan import GAN, WGANGP, ConditionalGAN

__all__ = ["GAN", "TRAINERS", "WGANGP", "ConditionalGAN", "build_trainer"]
