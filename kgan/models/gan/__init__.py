"""The adversarial trainers: one parameterized `train_step` for every GAN of the family.

`GAN`, `ConditionalGAN` and `WGANGP` are defined in `kgan.models.gan.trainers`, their step in
`kgan.models.gan.training`, generation and export in `kgan.models.gan.inference`.
"""

from kgan.models.gan.inference import GANInferenceModule
from kgan.models.gan.trainers import GAN, WGANGP, ConditionalGAN

# Saved models and preset metadata record the module of a trainer's class: this package.
for _trainer in (GAN, ConditionalGAN, WGANGP):
    _trainer.__module__ = __name__
del _trainer

__all__ = ["GAN", "WGANGP", "ConditionalGAN", "GANInferenceModule"]
