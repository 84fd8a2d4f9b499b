"""Presets: pretrained models that download, verify, cache and load in one call.

A preset is a folder (`config.json`, `model.weights.h5`, `golden.npz`, `metadata.json`,
`README.md`; see `kgan.zoo.format`). Built-in names resolve against a mirror (`$KGAN_ZOO_URL`,
or the repository's `zoo/` folder in a source checkout) and are checked against the registry
shipped with kgan; files are cached under `$KGAN_HOME` (default `~/.cache/kgan`).

Example:
    >>> import kgan
    >>> [p["name"] for p in kgan.zoo.list_presets()]
    >>> cgan = kgan.zoo.load("cgan_mnist")
    >>> images = cgan.generate(10, labels=list(range(10)), seed=0)
"""

from kgan.zoo import download, golden, registry
from kgan.zoo.download import kgan_home, offline_mode
from kgan.zoo.format import ChecksumError, PresetError, read_metadata, save_to_preset
from kgan.zoo.registry import (
    build_index,
    builtin_presets,
    info,
    is_cached,
    list_presets,
    load,
    mirror_url,
    pull,
)

__all__ = [
    "ChecksumError",
    "PresetError",
    "build_index",
    "builtin_presets",
    "download",
    "golden",
    "info",
    "is_cached",
    "kgan_home",
    "list_presets",
    "load",
    "mirror_url",
    "offline_mode",
    "pull",
    "read_metadata",
    "registry",
    "save_to_preset",
]
