"""kgan: generative adversarial networks and their probabilistic cousins for Keras 3.

Example:
    >>> import kgan
    >>> cgan = kgan.models.build_trainer("cgan", (28, 28, 1), num_classes=10)
    >>> cgan.compile()
    >>> cgan.fit(kgan.data.load("mnist_5k"), epochs=40)
    >>> kgan.image_grid.save_image_grid(cgan.generate(100, seed=0), "samples.png", columns=10)
"""

import importlib as _importlib
import os as _os
import sys as _sys

from kgan.version import __version__

_SUBMODULES = (
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
)
_MODELS = ("GAN", "VAE", "VAEGAN", "WGANGP", "ConditionalGAN")

# The `kgan` command starts without TensorFlow: its parsers and help need none of it, and it
# loads the library (below) once a command runs. It is also quiet by default: TensorFlow's
# native log lines (a CUDA "failed call to cuInit" on every machine without a GPU, XLA, MLIR
# and converter chatter) show only with `kgan --verbose ...`; the filter starts before
# TensorFlow is first imported.
_COMMAND = _os.path.basename(_sys.argv[0] if _sys.argv else "") == "kgan"
if _COMMAND and "--verbose" not in _sys.argv:
    from kgan.native_logs import filter_native_logs

    filter_native_logs()


def _import_all():
    """Imports every submodule. Importing the trainers registers them with Keras, so
    `keras.saving.load_model` finds them after a plain `import kgan`."""
    for name in _SUBMODULES:
        globals()[name] = _importlib.import_module(f"kgan.{name}")
    for name in _MODELS:
        globals()[name] = getattr(globals()["models"], name)


def __getattr__(name):
    # Reached only before `_import_all` (in the command): one submodule, on first use.
    if name in _SUBMODULES:
        return _importlib.import_module(f"kgan.{name}")
    if name in _MODELS:
        return getattr(_importlib.import_module("kgan.models"), name)
    raise AttributeError(f"module 'kgan' has no attribute {name!r}")


if not _COMMAND:
    _import_all()

__all__ = ["__version__", *_MODELS, *_SUBMODULES]
