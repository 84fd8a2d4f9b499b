"""Where presets come from: the built-in registry, the mirror, URLs, hubs and local folders.

The registry (`presets.json`, shipped inside the package) lists every built-in preset with the
SHA-256 and size of each of its files, and where it lives on the Hugging Face Hub (repository and
pinned commit). It is the trust anchor: a built-in preset downloaded from any source is accepted
only if every file matches it. For a URL or hub handle, the preset's own `metadata.json` is the
manifest of its other files.

A built-in name resolves, in this order, against:

1. `$KGAN_ZOO_URL`, a mirror (http(s):// or file://; `kgan zoo mirror` writes one);
2. the `zoo/` folder of the source checkout kgan runs from, when it holds the preset;
3. the Hugging Face Hub at the registry's pinned revision (through `huggingface_hub`).

`resolve(name)` says which and why (`kgan zoo info NAME --json`). Whatever the source, a copy
already in kgan's cache (`$KGAN_HOME/presets`, filled from mirrors) or in the Hub cache that
matches the registry is used without a request.
"""

import fnmatch
import hashlib
import json
import os
import pathlib
import re

from kgan.atomic import atomic_write_json
from kgan.zoo import download, hub
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


def resolve(name):
    """Where the built-in preset `name` comes from, and why.

    Returns:
        `{"kind": "mirror" | "checkout" | "hub", "location": URL or hf:// handle, "reason"}`.

    Raises:
        PresetError: `name` is not built in, or no source holds it (not published on the Hub by
            this release and no mirror set).
    """
    entry = builtin_presets().get(name)
    if entry is None:
        raise PresetError(f"{name!r} is not a built-in preset ({', '.join(builtin_presets())})")
    url = os.environ.get("KGAN_ZOO_URL")
    if url:
        return {
            "kind": "mirror",
            "location": download.join_url(url, name),
            "reason": "KGAN_ZOO_URL is set, and a mirror takes precedence over every other source",
        }
    folder = source_zoo_folder()
    if folder is not None and (folder / name / METADATA_FILE).is_file():
        return {
            "kind": "checkout",
            "location": (folder / name).as_uri(),
            "reason": f"kgan runs from a source checkout whose {folder} holds {name}",
        }
    location = hub.pinned(entry)
    if location is not None:
        return {
            "kind": "hub",
            "location": hub.handle(location),
            "reason": "no mirror is set and no checkout holds it: the registry shipped with kgan "
            "pins this Hugging Face Hub revision",
        }
    raise PresetError(
        f"preset {name!r} has no source: KGAN_ZOO_URL is not set, kgan does not run from a "
        "checkout that holds it, and this kgan's registry pins no Hugging Face Hub revision of "
        "it; set KGAN_ZOO_URL to a mirror (see `kgan zoo mirror`)"
    )


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


def _hub_cached(name, entry, cache_dir):
    if hub.pinned(entry) is None:
        return None
    try:
        return hub.cached_folder(name, entry, cache_dir)
    except PresetError:  # huggingface_hub is not installed
        return None


def _pull_builtin(name, entry, offline, cache_dir, verbose):
    folder = os.path.join(_cache_root(cache_dir), name)
    with download.file_lock(os.path.join(_cache_root(cache_dir), f".{name}.lock")):
        if _cached_ok(folder, entry["files"]):
            return folder
        cached = _hub_cached(name, entry, cache_dir)
        if cached is not None:
            return cached
        if offline:
            if hub.pinned(entry) is not None:  # it says which files are missing
                return hub.pull_pinned(name, entry, True, cache_dir, verbose)
            raise PresetError(
                f"preset {name!r} is not in the cache ({folder}) and offline mode is on "
                f"(KGAN_OFFLINE or HF_HUB_OFFLINE); run `kgan zoo pull {name}` with network "
                "access, or unset offline mode"
            )
        source = resolve(name)
        if source["kind"] == "hub":
            return hub.pull_pinned(name, entry, False, cache_dir, verbose)
        download.install(entry["files"], source["location"], folder, verbose)
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


def _pull_hub(preset, offline):
    if preset.startswith(hub.SCHEME):
        return hub.pull_handle(preset, offline)
    try:
        import kagglehub
    except ImportError:
        raise PresetError(
            f"{preset}: kaggle:// presets need kagglehub: pip install kagglehub"
        ) from None
    return kagglehub.model_download(preset.split("://", 1)[1].strip("/"))


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
            `file://` URL of a preset folder, or an `hf://OWNER/REPO[/FOLDER][@REVISION]` or
            `kaggle://HANDLE` handle (needs `kagglehub`). Built-in names resolve as `resolve`
            says.
        offline: use the caches only; None reads `$KGAN_OFFLINE` and `$HF_HUB_OFFLINE`.
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
        folder = _pull_hub(preset, offline)
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


def _cached_folder(name, cache_dir=None):
    entry = builtin_presets().get(name)
    if entry is None:
        return None
    folder = os.path.join(_cache_root(cache_dir), name)
    if _cached_ok(folder, entry["files"]):
        return folder
    return _hub_cached(name, entry, cache_dir)


def is_cached(name, cache_dir=None):
    """True when the built-in preset `name` is in kgan's cache or the Hub cache with every file
    matching the registry."""
    return _cached_folder(name, cache_dir) is not None


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
    `metadata.json` when present) with `source` (see `resolve`), else the `metadata.json` of a
    folder or URL."""
    preset = _check_preset(preset)
    known = builtin_presets()
    if preset in known:
        try:
            source = resolve(preset)
        except PresetError as error:
            source = {"kind": None, "location": None, "reason": str(error)}
        folder = _cached_folder(preset, cache_dir)
        if folder is not None:
            return {**read_metadata(folder), "cached": True, "source": source}
        return {"name": preset, **known[preset], "cached": False, "source": source}
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
    the package's registry (the same content). A preset's pinned Hub location is kept while its
    files are unchanged and dropped when they change (that revision no longer holds them).

    Returns:
        The index.
    """

    def atomic_write_text(path, text):
        from kgan.atomic import atomic_write

        def write(target):
            with open(target, "w") as f:
                f.write(text)

        atomic_write(path, write)

    previous = _read_presets(os.path.join(zoo_dir, INDEX_FILE))
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
        # A Hub revision stays pinned only while it holds exactly these files.
        old = previous.get(entry.name, {})
        if old.get("hub") and old.get("files") == files:
            presets[entry.name]["hub"] = old["hub"]
    index = {"format": FORMAT, "presets": presets}
    atomic_write_json(os.path.join(zoo_dir, INDEX_FILE), index)
    atomic_write_text(os.path.join(zoo_dir, "README.md"), zoo_readme(index))
    if registry_file:
        atomic_write_json(registry_file, index)
    return index


def _read_presets(index_path):
    """The `presets` of an index file, or {} when there is none."""
    if not os.path.isfile(index_path):
        return {}
    with open(index_path) as f:
        return json.load(f).get("presets", {})


def record_hub(zoo_dir, name, location, registry_file=None):
    """Pins a published preset's Hub location (`kgan.zoo.hub.publish`'s result) in
    `zoo_dir/index.json` and, when given, the package's registry.

    Raises:
        PresetError: the index has no preset `name`, or its files differ from the folder's (the
            index is stale: run `build_index` first).
    """
    path = os.path.join(zoo_dir, INDEX_FILE)
    if not os.path.isfile(path):
        raise PresetError(f"{zoo_dir} has no {INDEX_FILE}: publish the preset into it first")
    with open(path) as f:
        index = json.load(f)
    entry = index["presets"].get(name)
    if entry is None:
        raise PresetError(f"{path} lists no preset {name!r}")
    metadata = verify_folder(os.path.join(zoo_dir, name))
    if {k: v for k, v in entry["files"].items() if k != METADATA_FILE} != metadata["files"]:
        raise PresetError(f"{path} is stale for {name!r}: rebuild it with build_index first")
    entry["hub"] = {k: location[k] for k in ("repo_id", "revision", "subfolder")}
    atomic_write_json(path, index)
    if registry_file:
        atomic_write_json(registry_file, index)
    return index


def write_mirror(directory, names=None, cache_dir=None, verbose=True):
    """Writes a verified copy of built-in presets into `directory`, in the layout that
    `$KGAN_ZOO_URL` reads (`NAME/<files>` and `index.json`), for machines without network.

    Each preset comes from wherever `pull` finds it (cache first), is checked against the
    registry, and is renamed into place only once complete; presets already there intact are
    kept.

    Returns:
        The names written or kept.
    """
    import shutil

    from kgan.atomic import atomic_folder

    known = builtin_presets()
    names = list(names) if names else sorted(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise PresetError(
            f"not built-in presets: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    os.makedirs(directory, exist_ok=True)
    for name in names:
        target = os.path.join(directory, name)
        if _cached_ok(target, known[name]["files"]):
            continue
        source = pull(name, cache_dir=cache_dir, verbose=verbose)
        with atomic_folder(target, prefix=".staging-") as staging:
            for file, expected in known[name]["files"].items():
                shutil.copyfile(os.path.join(source, file), os.path.join(staging, file))
                verify_file(os.path.join(staging, file), expected)
    index_path = os.path.join(directory, INDEX_FILE)
    presets = _read_presets(index_path)
    presets.update({name: known[name] for name in names})
    atomic_write_json(index_path, {"format": FORMAT, "presets": dict(sorted(presets.items()))})
    return names


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
