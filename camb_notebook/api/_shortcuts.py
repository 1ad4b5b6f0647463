"""One-call helpers: ``separate(path)`` and ``separate_many(paths)`` with a throw-away client."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from .._exceptions import CambError
from ._client import BatchProgress, Client
from ._models import SeparationResult

__all__ = ["separate", "separate_many"]


def separate(
    path: str | os.PathLike[str],
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    **kwargs: Any,
) -> SeparationResult:
    """Separate one clip into foreground and background stems.

    With no key and no base URL (nor ``$CAMB_API_KEY`` / ``$CAMB_BASE_URL``) it runs on the
    embedded local engine; with a key, on CAMB.AI's cloud. In a notebook the result displays
    players and plots.

    Parameters
    ----------
    path : str or Path
    api_key, base_url : str, optional
        As for :class:`Client`.
    **kwargs :
        Passed to :meth:`Client.separate` (``out_dir``, ``reuse``, ``on_progress``, ``method`` …).

    Returns
    -------
    SeparationResult

    See Also
    --------
    separate_many, Client.separate

    Examples
    --------
    >>> import camb_notebook
    >>> result = camb_notebook.separate("song.wav")  # doctest: +SKIP
    >>> result.foreground.name  # doctest: +SKIP
    'foreground.flac'
    """
    with Client(api_key, base_url) as client:
        return client.separate(path, **kwargs)


def separate_many(
    paths: Iterable[str | os.PathLike[str]],
    *,
    concurrency: int = 4,
    on_progress: BatchProgress | None = None,
    return_exceptions: bool = False,
    api_key: str | None = None,
    base_url: str | None = None,
    **kwargs: Any,
) -> list[SeparationResult | CambError]:
    """Separate many clips, at most *concurrency* in flight at once.

    Runs in threads, so it also works inside Jupyter (whose event loop is already running).

    Parameters
    ----------
    paths : iterable of paths
    concurrency : int
    on_progress : callable(path, TaskStatus), optional
    return_exceptions : bool
        Return failures in place of results instead of raising the first one.
    api_key, base_url : str, optional
    **kwargs :
        Passed to :meth:`Client.separate`.

    See Also
    --------
    separate, AsyncClient.separate_many

    Examples
    --------
    >>> results = separate_many(["a.wav", "b.wav"], concurrency=2)  # doctest: +SKIP
    """
    with Client(api_key, base_url) as client:
        return client.separate_many(
            paths,
            concurrency=concurrency,
            on_progress=on_progress,
            return_exceptions=return_exceptions,
            **kwargs,
        )
