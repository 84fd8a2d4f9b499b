"""The one root of kgan's cache: downloaded presets and trained reference classifiers."""

import os
import warnings


def cache_root():
    """The root of kgan's cache.

    `$KGAN_HOME`, else `$XDG_CACHE_HOME/kgan`, else `~/.cache/kgan`. `$KGAN_CACHE`, the former
    name of the classifiers' cache, is still read (with a `DeprecationWarning`) when
    `$KGAN_HOME` is not set.

    Returns:
        An absolute path (the folder may not exist yet).
    """
    home = os.environ.get("KGAN_HOME")
    if not home and os.environ.get("KGAN_CACHE"):
        warnings.warn(
            "$KGAN_CACHE is deprecated and will be ignored in the next release; set $KGAN_HOME, "
            "kgan's one cache root",
            DeprecationWarning,
            stacklevel=2,
        )
        home = os.environ["KGAN_CACHE"]
    if home:
        return os.path.abspath(os.path.expanduser(home))
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "kgan")
