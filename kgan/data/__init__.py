"""Datasets: built-in names, user `.npz` / `.npy` files, image folders, TFRecord packs and TFDS
names.

Every image source yields float32 NHWC images in [-1, 1] and int32 labels; vector sources
(the 2-D Gaussian mixtures `ring8` and `grid25`, or an `.npz` with `x` of shape (N, D)) yield
float32 vectors at their own scale.

Example:
    >>> train = kgan.data.load("mnist_5k", batch_size=64, seed=0)
    >>> images, labels = next(iter(train))  # [64, 28, 28, 1] float32, [64] int32

Files larger than memory are streamed from disk (see `load`'s `cache`); `pack_folder` (the
`kgan data pack` command) writes an image folder as sharded TFRecord files, the fastest source
to stream; `load_distributed` gives each worker of a multi-worker strategy its own share.

The order of epoch `e` is a function of `(seed, e)` alone: `load(..., initial_epoch=k)` or
`set_epoch(dataset, k)` give a resumed run the batches of an uninterrupted one.
"""

from kgan.data.builtin import MixtureSpec, mixture_spec, names
from kgan.data.epochs import get_epoch, set_epoch
from kgan.data.loading import (
    MEMORY_BUDGET,
    DatasetInfo,
    info,
    load,
    load_arrays,
    load_distributed,
)
from kgan.data.records import pack_folder, verify_pack

__all__ = [
    "MEMORY_BUDGET",
    "DatasetInfo",
    "MixtureSpec",
    "get_epoch",
    "info",
    "load",
    "load_arrays",
    "load_distributed",
    "mixture_spec",
    "names",
    "pack_folder",
    "set_epoch",
    "verify_pack",
]
