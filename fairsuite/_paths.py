"""Where fairsuite looks for data and keeps its caches.

Data root: the ``data_dir`` argument (``--data-dir``), else ``$FAIRSUITE_DATA``, else a per-user
data directory. Cache root (decoded images, generated synthetic sets): ``$FAIRSUITE_CACHE``, else
a per-user cache directory.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["resolve_data_dir", "resolve_cache_dir"]

_APP = "fairsuite"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the data root: ``data_dir``, else ``$FAIRSUITE_DATA``, else the user data dir."""
    if data_dir is not None:
        return Path(data_dir).expanduser().resolve()
    env = os.environ.get("FAIRSUITE_DATA")
    if env:
        return Path(env).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir(_APP))


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the cache root: ``cache_dir``, else ``$FAIRSUITE_CACHE``, else the user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser().resolve()
    env = os.environ.get("FAIRSUITE_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_cache_dir(_APP))
