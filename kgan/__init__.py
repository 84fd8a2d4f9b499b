"""kgan: generative adversarial networks and their probabilistic cousins for Keras 3.

Example:
    >>> import kgan
    >>> cgan = kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10)
    >>> cgan.compile()
    >>> cgan.fit(kgan.data.load("mnist_5k"), epochs=40)
    >>> kgan.image_grid.save_image_grid(cgan.generate(100, seed=0), "samples.png", columns=10)
"""

import os as _os
import sys as _sys

# The `kgan` command is quiet by default: TensorFlow's native log lines (a CUDA "failed call to
# cuInit" on every machine without a GPU, XLA, MLIR and converter chatter) show only with
# `kgan --verbose ...`. The filter starts before TensorFlow is first imported.
if _os.path.basename(_sys.argv[0] if _sys.argv else "") == "kgan" and "--verbose" not in _sys.argv:
    from kgan.native_logs import filter_native_logs

    filter_native_logs()

# Importing the trainers registers them with Keras, so `keras.saving.load_model` finds them
# after a plain `import kgan`.
from kgan import (  # noqa: E402
    atomic,
    augment,
    cache,
    callbacks,
    cluster,
    data,
    distribute,
    export,
    image_grid,
    losses,
    metrics,
    mixture,
    models,
    networks,
    sampling,
    zoo,
)
from kgan.models import GAN, VAE, VAEGAN, WGANGP, ConditionalGAN  # noqa: E402
from kgan.version import __version__  # noqa: E402

__all__ = [
    "GAN",
    "VAE",
    "VAEGAN",
    "ConditionalGAN",
    "WGANGP",
    "__version__",
    "atomic",
    "augment",
    "cache",
    "callbacks",
    "cluster",
    "data",
    "distribute",
    "export",
    "image_grid",
    "losses",
    "metrics",
    "mixture",
    "models",
    "networks",
    "sampling",
    "zoo",
]
