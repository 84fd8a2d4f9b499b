"""Writing files so that a reader never sees half of one."""

import contextlib
import json
import os
import shutil
import tempfile


def atomic_write(path, write):
    """Calls `write(temporary_path)`, then renames the temporary file to `path`.

    The temporary file lives in the same folder (so the rename is atomic) and is removed if
    `write` fails, leaving any earlier `path` untouched.

    Args:
        path: the final file path; parent folders are created.
        write: a callable that writes the file at the path it is given.

    Returns:
        `path`.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder
    )
    os.close(handle)
    try:
        write(temporary)
        # mkstemp creates the file private (0600); give it the usual mode of a new file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def atomic_write_json(path, obj):
    """Writes `obj` as indented JSON to `path`, atomically.

    Args:
        path: the final file path.
        obj: a JSON-serializable object.

    Returns:
        `path`.
    """

    def write(target):
        with open(target, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")

    return atomic_write(path, write)


def atomic_write_npz(path, **arrays):
    """Writes `arrays` to `path` as an uncompressed `.npz` (memory-mappable), atomically.

    Args:
        path: the final file path (no ".npz" suffix is added).
        **arrays: the named arrays.

    Returns:
        `path`.
    """
    import numpy as np

    def write(target):
        with open(target, "wb") as f:  # a file object: np.savez adds no ".npz" suffix
            np.savez(f, **arrays)

    return atomic_write(path, write)


@contextlib.contextmanager
def atomic_folder(target, prefix=".tmp-"):
    """Yields an empty temporary folder beside `target`; when the block ends, the folder
    replaces `target` in one rename, or is removed if the block raised.

    Args:
        target: the final folder; an earlier one is replaced only once the new one is complete.
        prefix: name prefix of the temporary folder.

    Example:
        >>> with kgan.atomic.atomic_folder("zoo/my_preset") as staging:
        ...     write_files(staging)
    """
    target = os.path.abspath(os.fspath(target))
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        yield staging
        os.chmod(staging, 0o755)  # mkdtemp makes it private
        if os.path.exists(target):
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
