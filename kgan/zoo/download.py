"""Downloading preset files into the cache: streamed, checksummed, locked, atomic."""

import contextlib
import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from kgan.atomic import atomic_folder
from kgan.cache import cache_root
from kgan.zoo.format import ChecksumError, PresetError

CHUNK = 1 << 20
PROGRESS_ABOVE = 1 << 20  # bytes: files larger than this get a progress bar
TIMEOUT = 60.0


def kgan_home():
    """The root of kgan's cache (`kgan.cache.cache_root`): `$KGAN_HOME`, else
    `$XDG_CACHE_HOME/kgan`, else `~/.cache/kgan`."""
    return cache_root()


def offline_mode():
    """True when `$KGAN_OFFLINE` or `$HF_HUB_OFFLINE` is set to 1/true/yes: presets come from
    the caches only (kgan's and the Hugging Face Hub's)."""
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
        for name in ("KGAN_OFFLINE", "HF_HUB_OFFLINE")
    )


@contextlib.contextmanager
def file_lock(path, timeout=600.0):
    """An exclusive lock on `path` between processes (and threads), released on exit.

    `fcntl.flock` on POSIX, `msvcrt.locking` on Windows; the operating system drops the lock if
    the holder dies, so a crashed download never blocks the next one.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle = open(path, "a+b")
    deadline = time.monotonic() + timeout
    try:
        try:
            import fcntl

            def acquire():
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

            def release():
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

        except ImportError:  # Windows
            import msvcrt

            def acquire():
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

            def release():
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

        while True:
            try:
                acquire()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise PresetError(
                        f"another process has held {path} for over {timeout:.0f} s; if no kgan "
                        "download is running, delete the lock file"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            release()
    finally:
        handle.close()


def _open_url(url):
    request = urllib.request.Request(url, headers={"User-Agent": "kgan"})
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as error:
        raise PresetError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PresetError(
            f"cannot reach {url} ({reason}); check the address or your network, or set "
            "KGAN_OFFLINE=1 to use cached presets only"
        ) from None


def fetch(url, path, expected=None, verbose=True):
    """Streams `url` into `path` through a temporary file in the same folder.

    The SHA-256 and size are computed while writing; with `expected` (`{"sha256", "size"}`)
    a mismatch raises `ChecksumError` and nothing is left at `path` or beside it.

    Returns:
        `{"sha256": hex digest, "size": bytes}` of what was written.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".download-", dir=folder)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(handle, "wb") as out, _open_url(url) as response:
            declared = (
                response.headers.get("Content-Length") if hasattr(response, "headers") else None
            )
            declared = int(declared) if declared and declared.isdigit() else None
            total = declared or (expected or {}).get("size")
            bar = None
            if verbose and total and total > PROGRESS_ABOVE:
                import keras

                print(f"downloading {url}")
                bar = keras.utils.Progbar(total, unit_name="byte")
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (http.client.IncompleteRead, ConnectionError, TimeoutError) as error:
                    raise ChecksumError(
                        f"{url}: the connection broke after {size} bytes ({error}); the "
                        "download was truncated and nothing was kept; try again"
                    ) from None
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if bar is not None:
                    bar.update(size)
        if declared is not None and size != declared:
            raise ChecksumError(
                f"{url}: the connection broke after {size} of {declared} bytes; the download "
                "was truncated and nothing was kept; try again"
            )
        found = {"sha256": digest.hexdigest(), "size": size}
        if expected is not None:
            if "size" in expected and size != expected["size"]:
                raise ChecksumError(
                    f"{url} gave {size} bytes, the manifest says {expected['size']}: the "
                    "download was truncated or the file replaced; nothing was kept"
                )
            if found["sha256"] != expected["sha256"]:
                raise ChecksumError(
                    f"{url} has SHA-256 {found['sha256'][:16]}..., the manifest says "
                    f"{expected['sha256'][:16]}...: the file is corrupted or was swapped; "
                    "nothing was kept"
                )
        os.replace(temporary, path)
        return found
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def fetch_bytes(url):
    """The body of `url` (for small files such as `metadata.json`)."""
    with _open_url(url) as response:
        return response.read()


def join_url(base, *parts):
    """`base` joined with path parts, keeping `base`'s folder (a trailing slash is added)."""
    base = base if base.endswith("/") else base + "/"
    return urllib.parse.urljoin(base, "/".join(urllib.parse.quote(p) for p in parts))


def install(files, source_url, target, verbose=True, contents=None):
    """Downloads every file of `files` (`{name: {"sha256", "size"}}`) from `source_url/name`
    into a staging folder, checks each, then renames the folder to `target`.

    `contents` (`{name: bytes}`) are files already downloaded (a manifest), written as they are.
    Call under `file_lock`. An existing `target` is replaced only once the new copy is complete.
    """
    with atomic_folder(target, prefix=".staging-") as staging:
        for name, body in (contents or {}).items():
            with open(os.path.join(staging, name), "wb") as f:
                f.write(body)
        for name, expected in files.items():
            fetch(join_url(source_url, name), os.path.join(staging, name), expected, verbose)
    return target
