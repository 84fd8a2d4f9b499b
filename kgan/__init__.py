"""kgan: generative adversarial networks and their probabilistic cousins for Keras 3."""

__version__ = "0.1.0"

from kgan import callbacks, data, losses, metrics, models, networks  # noqa: E402
from kgan.models import GAN, ConditionalGAN  # noqa: E402

__all__ = [
    "GAN",
    "ConditionalGAN",
    "__version__",
    "callbacks",
    "data",
    "losses",
    "metrics",
    "models",
    "networks",
]
