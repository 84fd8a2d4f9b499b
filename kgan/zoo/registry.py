"""Where presets come from: the built-in registry, the mirror, URLs, hubs and local folders.

The registry (`presets.json`, shipped inside the package) lists every built-in preset with the
SHA-256 and size of each of its files. It is the trust anchor: a built-in preset downloaded from
any mirror is accepted only if every file matches it. For a URL or hub handle, the preset's own
`metadata.json` is the manifest of its other files.
"""

import fnmatch
import hashlib
import json
import os
import pathlib
import re

from kgan.zoo import download
from kgan.zoo.format import (
    METADATA_FILE,
    PresetError,
    load_folder,
    read_metadata,
    verify_file,
    verify_folder,
)

REGISTRY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "presets.json")
INDEX_FILE = "index.json"
FORMAT = 1


def builtin_presets():
    """`{name: entry}` of the built-in presets (description, class, dataset, metrics, files)."""
    if not os.path.isfile(REGISTRY_FILE):
        return {}
    with open(REGISTRY_FILE) as f:
        return json.load(f)["presets"]


def source_zoo_folder():
    """The repository's `zoo/` folder when kgan runs from a source checkout, else None."""
    folder = pathlib.Path(__file__).resolve().parents[2] / "zoo"
    return folder if (folder / INDEX_FILE).is_file() or (folder / "recipes").is_dir() else None


def mirror_url():
    """The base URL that built-in names resolve against: `$KGAN_ZOO_URL`, else the source
    checkout's `zoo/` folder as a `file://` URL.

    Raises:
        PresetError: neither is available.
    """
    url = os.environ.get("KGAN_ZOO_URL")
    if url:
        return url if url.endswith("/") else url + "/"
    folder = source_zoo_folder()
    if folder is None:
        raise PresetError(
            "no preset mirror is configured: set KGAN_ZOO_URL to a URL (http(s):// or file://) "
            "that serves the zoo/ folder of the kgan repository"
        )
    return folder.as_uri() + "/"


def _cache_root(cache_dir):
    return os.path.join(cache_dir or download.kgan_home(), "presets")


def _url_key(url):
    url = url.rstrip("/")
    tail = re.sub(r"[^A-Za-z0-9_.-]+", "_", url.rstrip("/").rsplit("/", 1)[-1])[:40]
    return f"{tail}-{hashlib.sha256(url.encode()).hexdigest()[:16]}"


def _is_url(preset):
    return preset.startswith(("http://", "https://", "file://"))


def _cached_ok(folder, files):
    try:
        for name, expected in files.items():
            verify_file(os.path.join(folder, name), expected)
    except PresetError:
        return False
    return True


def _pull_builtin(name, entry, offline, cache_dir, verbose):
    folder = os.path.join(_cache_root(cache_dir), name)
    with download.file_lock(os.path.join(_cache_root(cache_dir), f".{name}.lock")):
        if _cached_ok(folder, entry["files"]):
            return folder
        if offline:
            raise PresetError(
                f"preset {name!r} is not in the cache ({folder}) and offline mode is on; run "
                f"`kgan zoo pull {name}` with network access, or unset KGAN_OFFLINE"
            )
        download.install(entry["files"], download.join_url(mirror_url(), name), folder, verbose)
    return folder


def _pull_url(url, offline, cache_dir, verbose):
    root = os.path.join(_cache_root(cache_dir), "urls")
    folder = os.path.join(root, _url_key(url))
    with download.file_lock(os.path.join(root, f".{_url_key(url)}.lock")):
        if os.path.isfile(os.path.join(folder, METADATA_FILE)):
            try:
                verify_folder(folder)
                return folder
            except PresetError:
                pass  # damaged cache: download again
        if offline:
            raise PresetError(
                f"{url} is not in the cache ({folder}) and offline mode is on; unset "
                "KGAN_OFFLINE to download it"
            )
        body = download.fetch_bytes(download.join_url(url, METADATA_FILE))
        try:
            metadata = json.loads(body)
            files = dict(metadata["files"])
        except (ValueError, KeyError, TypeError):
            raise PresetError(
                f"{url}/{METADATA_FILE} is not a kgan preset manifest (JSON with a 'files' "
                "table); check the URL"
            ) from None
        files.pop(METADATA_FILE, None)
        download.install(files, url, folder, verbose, contents={METADATA_FILE: body})
    return folder


def _pull_hub(preset):
    scheme, handle = preset.split("://", 1)
    if scheme == "hf":
        try:
            import huggingface_hub
        except ImportError:
            raise PresetError(
                f"{preset}: hf:// presets need huggingface_hub: pip install huggingface_hub"
            ) from None
        parts = handle.strip("/").split("/")
        if len(parts) < 2:
            raise PresetError(f"{preset}: write hf://OWNER/REPO or hf://OWNER/REPO/FOLDER")
        repo_id, subfolder = "/".join(parts[:2]), "/".join(parts[2:])
        patterns = [f"{subfolder}/*"] if subfolder else None
        root = huggingface_hub.snapshot_download(repo_id=repo_id, allow_patterns=patterns)
        return os.path.join(root, subfolder) if subfolder else root
    try:
        import kagglehub
    except ImportError:
        raise PresetError(
            f"{preset}: kaggle:// presets need kagglehub: pip install kagglehub"
        ) from None
    return kagglehub.model_download(handle.strip("/"))


def _check_preset(preset):
    if not isinstance(preset, str | os.PathLike) or not os.fspath(preset):
        raise PresetError(
            f"a preset is a name, folder or URL string; got {preset!r} (see "
            "kgan.zoo.list_presets())"
        )
    return os.fspath(preset)


def pull(preset, offline=None, cache_dir=None, verbose=True):
    """Makes a preset available locally, downloading and checking it when needed.

    Args:
        preset: a built-in name (see `list_presets`), a local preset folder, an `http(s)://` or
            `file://` URL of a preset folder, or an `hf://OWNER/REPO[/FOLDER]` or
            `kaggle://HANDLE` handle (needs `huggingface_hub` or `kagglehub`).
        offline: use the cache only; None reads `$KGAN_OFFLINE`.
        cache_dir: the cache root; None uses `$KGAN_HOME` (default `~/.cache/kgan`).
        verbose: show a progress bar for large files.

    Returns:
        The path of a preset folder whose files match their manifest.

    Raises:
        PresetError: unknown name, unreachable source, offline without a cached copy.
        ChecksumError: a downloaded or cached file is truncated, corrupted or swapped.

    Example:
        >>> folder = kgan.zoo.pull("cgan_mnist")
    """
    preset = _check_preset(preset)
    offline = download.offline_mode() if offline is None else offline
    known = builtin_presets()
    if preset in known:
        return _pull_builtin(preset, known[preset], offline, cache_dir, verbose)
    if _is_url(preset):
        return _pull_url(preset, offline, cache_dir, verbose)
    if preset.startswith(("hf://", "kaggle://")):
        folder = _pull_hub(preset)
        verify_folder(folder)
        return folder
    if os.path.isdir(preset):
        verify_folder(preset)
        return preset
    close = [n for n in known if preset.lower() in n or n in preset.lower()]
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise PresetError(
        f"unknown preset {preset!r}{hint}: pass a built-in name ({', '.join(sorted(known))}), a "
        "preset folder, an http(s):// or file:// URL, or an hf:// or kaggle:// handle"
    )


def load(
    preset, load_weights=True, expected_class=None, offline=None, cache_dir=None, verbose=True
):
    """Loads a preset's model in one call: resolve, download if needed, check, build.

    Args:
        preset: see `pull`.
        load_weights: load the trained weights (False: the preset's architecture, freshly
            initialized).
        expected_class: raise unless the preset holds this class or a subclass (used by
            `Model.from_preset`).
        offline: use the cache only; None reads `$KGAN_OFFLINE`.
        cache_dir: the cache root; None uses `$KGAN_HOME`.
        verbose: show a progress bar for large files.

    Returns:
        The model: a kgan trainer (uncompiled; call `compile` to fine-tune), a Keras model, or a
        fitted `kgan.mixture.GaussianMixture`.

    Example:
        >>> cgan = kgan.zoo.load("cgan_mnist")
        >>> images = cgan.generate(10, labels=list(range(10)), seed=0)
    """
    folder = pull(preset, offline=offline, cache_dir=cache_dir, verbose=verbose)
    return load_folder(folder, load_weights=load_weights, expected_class=expected_class)


def is_cached(name, cache_dir=None):
    """True when the built-in preset `name` is in the cache with every file intact."""
    entry = builtin_presets().get(name)
    folder = os.path.join(_cache_root(cache_dir), name)
    return entry is not None and _cached_ok(folder, entry["files"])


def list_presets(pattern=None, cache_dir=None):
    """The built-in presets, optionally filtered.

    Args:
        pattern: a glob such as `"*mnist"` or a substring such as `"gan"`; None lists all.
        cache_dir: the cache root, to report which presets are cached.

    Returns:
        A list of `{"name", "description", "class_name", "dataset", "metrics", "cached"}`,
        sorted by name.

    Example:
        >>> [p["name"] for p in kgan.zoo.list_presets("*mnist")]
    """
    rows = []
    for name, entry in sorted(builtin_presets().items()):
        if pattern and not (
            fnmatch.fnmatch(name, pattern) if any(c in pattern for c in "*?[") else pattern in name
        ):
            continue
        rows.append(
            {
                "name": name,
                "description": entry.get("description"),
                "class_name": entry.get("class_name"),
                "dataset": entry.get("dataset"),
                "metrics": entry.get("metrics", {}),
                "cached": is_cached(name, cache_dir),
            }
        )
    return rows


def info(preset, cache_dir=None):
    """The metadata of a preset: the registry's entry for a built-in name (its cached
    `metadata.json` when present), else the `metadata.json` of a folder or URL."""
    preset = _check_preset(preset)
    known = builtin_presets()
    if preset in known:
        folder = os.path.join(_cache_root(cache_dir), preset)
        if is_cached(preset, cache_dir):
            return {**read_metadata(folder), "cached": True}
        return {"name": preset, **known[preset], "cached": False}
    if os.path.isdir(preset):
        return read_metadata(preset)
    if _is_url(preset):
        return json.loads(download.fetch_bytes(download.join_url(preset, METADATA_FILE)))
    raise PresetError(
        f"unknown preset {preset!r}: pass a built-in name ({', '.join(sorted(known))}), a "
        "preset folder or a URL"
    )


def build_index(zoo_dir, registry_file=REGISTRY_FILE):
    """Scans `zoo_dir/*/metadata.json`, checks each folder, and writes `zoo_dir/index.json` and
    the package's registry (the same content).

    Returns:
        The index.
    """
    from kgan.atomic import atomic_write_json

    def atomic_write_text(path, text):
        from kgan.atomic import atomic_write

        def write(target):
            with open(target, "w") as f:
                f.write(text)

        atomic_write(path, write)

    presets = {}
    for entry in sorted(os.scandir(zoo_dir), key=lambda e: e.name):
        if not entry.is_dir() or not os.path.isfile(os.path.join(entry.path, METADATA_FILE)):
            continue
        metadata = verify_folder(entry.path)
        files = dict(metadata["files"])
        meta_path = os.path.join(entry.path, METADATA_FILE)
        with open(meta_path, "rb") as f:
            body = f.read()
        files[METADATA_FILE] = {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
        presets[entry.name] = {
            "description": metadata.get("description"),
            "class_name": metadata["class_name"],
            "module": metadata.get("module"),
            "dataset": metadata.get("dataset"),
            "parameter_count": metadata.get("parameter_count"),
            "metrics": metadata.get("metrics", {}),
            "files": files,
        }
    index = {"format": FORMAT, "presets": presets}
    atomic_write_json(os.path.join(zoo_dir, INDEX_FILE), index)
    atomic_write_text(os.path.join(zoo_dir, "README.md"), zoo_readme(index))
    if registry_file:
        atomic_write_json(registry_file, index)
    return index


def _figure(value):
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def preset_table(index):
    """A Markdown table of an index's presets: class, data, size, measured metrics."""
    rows = [
        "| preset | class | data | parameters | files | measured |",
        "| --- | --- | --- | ---: | ---: | --- |",
    ]
    for name, entry in index["presets"].items():
        size = sum(f["size"] for f in entry["files"].values()) / 2**20
        metrics = ", ".join(
            f"{k} {_figure(v)}"
            for k, v in entry.get("metrics", {}).items()
            if k not in ("command", "kid_std_error", "recipe_version")
        )
        rows.append(
            f"| `{name}` | `{entry['class_name']}` | {entry.get('dataset') or ''} | "
            f"{entry.get('parameter_count') or 0:,} | {size:.1f} MiB | {metrics} |"
        )
    return "\n".join(rows)


def zoo_readme(index):
    """The text of a zoo folder's README.md: what each preset is and how it measured."""
    lines = [
        "# kgan presets",
        "",
        "One folder per preset (`config.json`, `model.weights.h5`, `golden.npz`, "
        "`metadata.json`, `README.md`); `index.json` lists them with the SHA-256 of every "
        "file; `recipes/` holds the commands that train, measure and publish each one. "
        "This file and `index.json` are written by `kgan zoo publish`.",
        "",
        preset_table(index),
        "",
    ]
    for name, entry in index["presets"].items():
        command = entry.get("metrics", {}).get("command")
        lines.append(f"- `{name}`: {entry.get('description') or ''}")
        if command:
            lines.append(f"  Measured with `{command}`.")
    return "\n".join(lines) + "\n"
