"""Where settings come from: arguments first, then environment variables, then defaults."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "CLOUD_BASE_URL",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_CACHE_DIR",
    "cache_dir",
]

CLOUD_BASE_URL = "https://client.camb.ai/apis"
ENV_API_KEY = "CAMB_API_KEY"
ENV_BASE_URL = "CAMB_BASE_URL"
ENV_CACHE_DIR = "CAMB_NOTEBOOK_CACHE_DIR"


def cache_dir(sub: str | None = None) -> Path:
    """Return (and create) the toolkit's cache folder, or a sub-folder of it.

    ``$CAMB_NOTEBOOK_CACHE_DIR`` overrides the user cache dir (tests point it at a
    temporary folder).

    Examples
    --------
    >>> cache_dir("stems").name
    'stems'
    """
    root = os.environ.get(ENV_CACHE_DIR)
    if root:
        base = Path(root).expanduser()
    else:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("camb_notebook", appauthor=False))
    path = base / sub if sub else base
    path.mkdir(parents=True, exist_ok=True)
    return path
