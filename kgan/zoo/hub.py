"""The Hugging Face Hub as a preset source: pinned downloads, verification and publishing.

Everything goes through `huggingface_hub` (imported on first use): its cache (`HF_HOME`,
`HF_HUB_CACHE`), endpoint (`HF_ENDPOINT`), offline mode (`HF_HUB_OFFLINE`) and token (`HF_TOKEN`,
or `hf auth login`). kgan adds what the Hub cannot know: the SHA-256 of every file of a built-in
preset, shipped in kgan's registry, checked before anything is deserialized. A file that does not
match is deleted from the cache (blob and snapshot link), so a swapped file is never kept.

A built-in preset's registry entry names its Hub location as
`"hub": {"repo_id": "OWNER/REPO", "revision": "<40-hex commit>", "subfolder": ""}`; the
revision is a commit, never a branch, so moving `main` on the Hub cannot change what a released
kgan loads. `kgan zoo publish FOLDER --to hf://OWNER/REPO[/FOLDER]` uploads a preset and records
the commit it made.
"""

import contextlib
import os
import re

from kgan.zoo.format import METADATA_FILE, ChecksumError, PresetError, verify_file, verify_folder

SCHEME = "hf://"
COMMIT = re.compile(r"^[0-9a-f]{40}$")


def import_hub():
    """`huggingface_hub`, or a `PresetError` saying how to install it."""
    try:
        import huggingface_hub
        import huggingface_hub.errors
        import huggingface_hub.utils
    except ImportError:
        raise PresetError(
            "presets on the Hugging Face Hub need huggingface_hub: pip install huggingface_hub"
        ) from None
    return huggingface_hub


def parse_handle(handle):
    """`hf://OWNER/REPO[/FOLDER][@REVISION]` -> `(repo_id, subfolder, revision)` (subfolder ""
    for a whole repository, revision None for the default branch)."""
    if not isinstance(handle, str) or not handle.startswith(SCHEME):
        raise PresetError(f"{handle!r} is not a Hub handle: write hf://OWNER/REPO[/FOLDER]")
    path, _, revision = handle[len(SCHEME) :].partition("@")
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2 or any(p in (".", "..") for p in parts) or (_ and not revision):
        raise PresetError(
            f"{handle}: write hf://OWNER/REPO or hf://OWNER/REPO/FOLDER, optionally with "
            "@REVISION (a commit, branch or tag)"
        )
    return "/".join(parts[:2]), "/".join(parts[2:]), revision or None


def pinned(entry):
    """The `hub` location of a registry entry when it pins a commit, else None."""
    location = entry.get("hub") or {}
    return location if COMMIT.match(location.get("revision") or "") else None


def handle(location):
    """The `hf://` handle of a registry `hub` entry, with `@revision` when pinned."""
    path = "/".join(p for p in (location["repo_id"], location.get("subfolder") or "") if p)
    revision = location.get("revision")
    return f"{SCHEME}{path}" + (f"@{revision}" if revision else "")


def hub_cache(cache_dir):
    """Where Hub files are cached: `huggingface_hub`'s own cache (None) unless kgan was given an
    explicit cache root, then `cache_dir/huggingface`."""
    return None if cache_dir is None else os.path.join(cache_dir, "huggingface")


def _remote_paths(location, files):
    subfolder = (location.get("subfolder") or "").strip("/")
    return {name: f"{subfolder}/{name}" if subfolder else name for name in files}


@contextlib.contextmanager
def _progress(verbose):
    """`huggingface_hub`'s progress bars on or off for the block, then as they were."""
    utils = import_hub().utils
    was_disabled = utils.are_progress_bars_disabled()
    if not verbose and not was_disabled:
        utils.disable_progress_bars()
    try:
        yield
    finally:
        if not verbose and not was_disabled:
            utils.enable_progress_bars()


def _cached_path(hub, location, remote, cache_dir):
    """The cached file of `remote` at the pinned revision, or None; makes no request."""
    path = hub.try_to_load_from_cache(
        location["repo_id"], remote, cache_dir=hub_cache(cache_dir), revision=location["revision"]
    )
    return path if isinstance(path, str) else None


def _forget(path):
    """Deletes a cached file: the snapshot's link and the blob it points to."""
    real = os.path.realpath(path)
    for target in {path, real}:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)


def cached_folder(name, entry, cache_dir=None):
    """The snapshot folder of a built-in preset in the Hub cache when every file is there and
    matches the registry, else None. Makes no request."""
    location = pinned(entry)
    if location is None:
        return None
    hub = import_hub()
    folder = None
    for file, remote in _remote_paths(location, entry["files"]).items():
        path = _cached_path(hub, location, remote, cache_dir)
        if path is None:
            return None
        try:
            verify_file(path, entry["files"][file])
        except PresetError:
            return None
        folder = os.path.dirname(path)
    return folder


def pull_pinned(name, entry, offline=False, cache_dir=None, verbose=True):
    """Downloads a built-in preset from its pinned Hub revision into the Hub cache, checks every
    file against the registry, and returns the folder.

    Raises:
        PresetError: the entry names no pinned revision, offline without a cached copy, or the
            Hub cannot serve it.
        ChecksumError: a file differs from the registry (it is deleted from the cache).
    """
    location = pinned(entry)
    if location is None:
        raise PresetError(
            f"preset {name!r} has no pinned Hugging Face Hub revision in this kgan's registry "
            "(it was not published with `kgan zoo publish --to hf://...`); set KGAN_ZOO_URL to "
            "a mirror that holds it (see `kgan zoo mirror`)"
        )
    folder = cached_folder(name, entry, cache_dir)
    if folder is not None:
        return folder
    hub = import_hub()
    remote = _remote_paths(location, entry["files"])
    if offline:
        missing = [p for p in remote.values() if _cached_path(hub, location, p, cache_dir) is None]
        raise PresetError(
            f"preset {name!r} is not in the Hugging Face cache and offline mode is on "
            f"(KGAN_OFFLINE or HF_HUB_OFFLINE); missing from {handle(location)}: "
            f"{', '.join(missing) or 'none, but the cached files do not match the registry'}. "
            f"Run `kgan zoo pull {name}` with network access, or `kgan zoo mirror DIR` on a "
            "machine that has it and point KGAN_ZOO_URL at the copy"
        )
    errors = hub.errors
    downloaded = []
    try:
        with _progress(verbose):
            for file, path in remote.items():
                local = hub.hf_hub_download(
                    location["repo_id"],
                    path,
                    revision=location["revision"],
                    cache_dir=hub_cache(cache_dir),
                )
                downloaded.append(local)
                try:
                    verify_file(local, entry["files"][file], f"{handle(location)}/{file}")
                except ChecksumError as error:
                    raise ChecksumError(f"{error}; nothing of {name!r} was kept") from None
    except (errors.RepositoryNotFoundError, errors.RevisionNotFoundError) as error:
        _forget_all(downloaded)
        raise PresetError(
            f"{handle(location)} is not on the Hub ({type(error).__name__}); the repository or "
            "its pinned revision was deleted: use a mirror (KGAN_ZOO_URL) or another kgan release"
        ) from None
    except errors.EntryNotFoundError as error:
        _forget_all(downloaded)
        raise PresetError(f"{handle(location)} lacks a file of {name!r}: {error}") from None
    except (errors.HfHubHTTPError, errors.LocalEntryNotFoundError, OSError) as error:
        _forget_all(downloaded)
        raise PresetError(
            f"cannot download {name!r} from {handle(location)} ({type(error).__name__}: "
            f"{error}); check your network or HF_ENDPOINT, or set KGAN_OFFLINE=1 to use cached "
            "presets only"
        ) from None
    except BaseException:  # a file that does not match, an interrupt: keep nothing
        _forget_all(downloaded)
        raise
    return os.path.dirname(downloaded[0])


def pull_handle(preset, offline=False):
    """Downloads every file of `hf://OWNER/REPO[/FOLDER][@REVISION]` (a preset that is not
    built in) into the Hub cache and returns its folder; the preset's own `metadata.json` is
    then its manifest."""
    repo_id, subfolder, revision = parse_handle(preset)
    hub = import_hub()
    try:
        root = hub.snapshot_download(
            repo_id=repo_id,
            revision=revision,
            allow_patterns=[f"{subfolder}/*"] if subfolder else None,
            local_files_only=offline,
        )
    except hub.errors.LocalEntryNotFoundError:
        raise PresetError(
            f"{preset} is not in the Hugging Face cache and offline mode is on (KGAN_OFFLINE or "
            "HF_HUB_OFFLINE), or the Hub cannot be reached"
        ) from None
    except hub.errors.HfHubHTTPError as error:
        raise PresetError(f"cannot download {preset}: {error}") from None
    return os.path.join(root, subfolder) if subfolder else root


def _forget_all(paths):
    for path in paths:
        _forget(path)


def plan(folder, target):
    """What publishing `folder` to `target` uploads: `{"repo_id", "subfolder", "files"}`
    (`{path in repo: bytes}`), after checking every file against the folder's manifest."""
    repo_id, subfolder, revision = parse_handle(target)
    if revision:
        raise PresetError(f"{target}: publish to a repository's main branch, without @{revision}")
    metadata = verify_folder(folder)
    names = sorted([*metadata["files"], METADATA_FILE])
    return {
        "repo_id": repo_id,
        "subfolder": subfolder,
        "name": metadata.get("name") or os.path.basename(os.path.normpath(folder)),
        "files": {
            "/".join(p for p in (subfolder, n) if p): os.path.getsize(os.path.join(folder, n))
            for n in names
        },
    }


def publish(folder, target, token=None, private=None, commit_message=None):
    """Uploads a preset folder to the Hub in one commit and returns its pinned location.

    The folder's files must match its manifest (`metadata.json`); only they are uploaded. At the
    root of a repository the preset's `README.md` is the repository's model card.

    Args:
        folder: a preset folder (`kgan.zoo.save_to_preset`).
        target: `hf://OWNER/REPO` or `hf://OWNER/REPO/FOLDER`; the repository is created if
            missing.
        token: a Hub token with write access; None uses `HF_TOKEN` or the saved login.
        private: create the repository private (None: the Hub's default).
        commit_message: defaults to "kgan preset NAME".

    Returns:
        `{"repo_id", "revision", "subfolder"}`, the registry's `hub` entry.
    """
    upload = plan(folder, target)
    hub = import_hub()
    api = hub.HfApi(token=token)
    try:
        api.create_repo(upload["repo_id"], private=private, exist_ok=True)
        info = api.upload_folder(
            folder_path=folder,
            repo_id=upload["repo_id"],
            path_in_repo=upload["subfolder"] or None,
            allow_patterns=[p.rsplit("/", 1)[-1] for p in upload["files"]],
            commit_message=commit_message or f"kgan preset {upload['name']}",
        )
    except hub.errors.HfHubHTTPError as error:
        raise PresetError(
            f"publishing {folder} to {target} failed: {error}; check that HF_TOKEN holds a "
            "token with write access to the namespace"
        ) from None
    return {"repo_id": upload["repo_id"], "revision": info.oid, "subfolder": upload["subfolder"]}
