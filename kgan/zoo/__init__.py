"""Presets: pretrained models that download, verify, cache and load in one call.

A preset is a folder (`config.json`, `model.weights.h5`, `golden.npz`, `metadata.json`,
`README.md`; see `kgan.zoo.format`). Built-in names resolve against a mirror (`$KGAN_ZOO_URL`),
else the repository's `zoo/` folder in a source checkout, else the Hugging Face Hub at the
revision pinned in the registry shipped with kgan (`kgan.zoo.resolve` says which), and every file
is checked against that registry's SHA-256 before anything is loaded. Mirrored files are cached
under `$KGAN_HOME` (default `~/.cache/kgan`), Hub files in the Hugging Face cache (`HF_HOME`).

Example:
    >>> import kgan
    >>> [p["name"] for p in kgan.zoo.list_presets()]
    >>> cgan = kgan.zoo.load("cgan_mnist")
    >>> images = cgan.generate(10, labels=list(range(10)), seed=0)
"""

from kgan.zoo import download, golden, hub, registry
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
    record_hub,
    resolve,
    write_mirror,
)

__all__ = [
    "ChecksumError",
    "PresetError",
    "build_index",
    "builtin_presets",
    "download",
    "golden",
    "hub",
    "info",
    "is_cached",
    "kgan_home",
    "list_presets",
    "load",
    "mirror_url",
    "offline_mode",
    "pull",
    "read_metadata",
    "record_hub",
    "registry",
    "resolve",
    "save_to_preset",
    "write_mirror",
]
