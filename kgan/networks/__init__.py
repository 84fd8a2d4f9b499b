"""Builders of plain functional `keras.Model` networks: DCGAN-style image nets and MLPs."""

from kgan.networks.dcgan import dcgan_discriminator, dcgan_generator
from kgan.networks.encoder import code_encoder, code_features, code_head
from kgan.networks.joint import joint_discriminator
from kgan.networks.mlp import mlp_discriminator, mlp_generator
from kgan.networks.vae import vae_decoder, vae_encoder

__all__ = [
    "code_encoder",
    "code_features",
    "code_head",
    "dcgan_discriminator",
    "dcgan_generator",
    "joint_discriminator",
    "mlp_discriminator",
    "mlp_generator",
    "vae_decoder",
    "vae_encoder",
]
