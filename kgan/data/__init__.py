"""Datasets: built-in names, user `.npz` files, image folders and TFDS names.

Every image source yields float32 NHWC images in [-1, 1] and int32 labels; vector sources
(the 2-D Gaussian mixtures `ring8` and `grid25`, or an `.npz` with `x` of shape (N, D)) yield
float32 vectors at their own scale.

Example:
    >>> train = kgan.data.load("mnist_5k", batch_size=64, seed=0)
    >>> images, labels = next(iter(train))  # [64, 28, 28, 1] float32, [64] int32

The order of epoch `e` is a function of `(seed, e)` alone: `load(..., initial_epoch=k)` or
`set_epoch(dataset, k)` give a resumed run the batches of an uninterrupted one.
"""

from kgan.data.builtin import MixtureSpec, mixture_spec, names
from kgan.data.epochs import get_epoch, set_epoch
from kgan.data.loading import DatasetInfo, info, load, load_arrays

__all__ = [
    "DatasetInfo",
    "MixtureSpec",
    "get_epoch",
    "info",
    "load",
    "load_arrays",
    "mixture_spec",
    "names",
    "set_epoch",
]
