"""Trainers: subclassed `keras.Model`s with their own `train_step`."""

from kgan.models.factory import TRAINERS, build_trainer
from kgan.models.gan import GAN, ConditionalGAN

__all__ = ["GAN", "TRAINERS", "ConditionalGAN", "build_trainer"]
