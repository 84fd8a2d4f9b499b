"""Writing files so that a reader never sees half of one."""

import json
import os
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
