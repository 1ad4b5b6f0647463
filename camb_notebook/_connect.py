"""The one place that picks a service and makes a client.

The client layer (:mod:`camb_notebook.api`) and the local engine (:mod:`camb_notebook.engine`)
do not know each other. This module joins them: it decides which service a call means — a key
means CAMB.AI's cloud, a base URL means that server, neither means the embedded local engine —
starts the embedded engine when that is the answer, and hands back a client. The widget, the
CLI and the one-call helpers :func:`separate` / :func:`separate_many` all come through here, so
the decision is made once, the same way everywhere.

Examples
--------
>>> from camb_notebook import choose_service
>>> choose_service(api_key="sk-example-key").label
'CAMB.AI cloud'
>>> choose_service(backend="local").origin
'engine'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from typing_extensions import Unpack

from ._config import CLOUD_BASE_URL
from ._exceptions import CambError, ConfigurationError, InputError, register_secret
from .api import (
    AsyncClient,
    BatchKwargs,
    Client,
    SeparateKwargs,
    SeparationResult,
    Settings,
    TaskStatus,
    resolve_settings,
    spelled_out,
)

__all__ = [
    "LOCAL_ENGINE",
    "Backend",
    "ServiceChoice",
    "choose_service",
    "connect",
    "connect_async",
    "separate",
    "separate_many",
]

#: The embedded engine's name in the task store (see ``Settings.identity``).
LOCAL_ENGINE = "local-engine"

#: ``"local"`` forces the embedded engine, ``"cloud"`` CAMB.AI; None follows key and base URL.
Backend = Literal["local", "cloud"] | None

Origin = Literal["engine", "cloud", "custom"]


@dataclass(frozen=True)
class ServiceChoice:
    """Which service to use, decided without starting anything.

    Attributes
    ----------
    origin : {"engine", "cloud", "custom"}
        The embedded local engine, CAMB.AI's cloud, or another server speaking its API.
    settings : Settings or None
        Base URL and key; None for the embedded engine until it is started.
    """

    origin: Origin
    settings: Settings | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """Where clips go, in words for a person (never a key or URL credentials)."""
        if self.origin == "engine":
            return "local engine"
        if self.origin == "cloud":
            return "CAMB.AI cloud"
        assert self.settings is not None
        return urlsplit(self.settings.base_url).hostname or "custom service"

    def resolve(self) -> Settings:
        """The settings to make a client with, starting the embedded engine if needed."""
        if self.settings is not None:
            return self.settings
        try:
            from .engine import local_engine
        except ImportError as exc:  # the engine's server dependencies are missing
            raise ConfigurationError(
                "no API key and no base URL given, and the local engine is unavailable "
                f"({exc}). Set CAMB_API_KEY (or api_key=) to use CAMB.AI's cloud, or "
                "base_url= to use a `camb-notebook serve` server.",
                setting="base_url",
            ) from exc
        engine = local_engine()
        register_secret(engine.api_key)
        # Its port changes with every kernel: the task store knows it by a stable name, so a
        # restarted kernel finds the clips it separated (their stems are files on this disk).
        return Settings(engine.base_url, engine.api_key, "engine", identity=LOCAL_ENGINE)

    def connect(self, **client_options: Any) -> Client:
        """A :class:`~camb_notebook.api.Client` for this service (see :func:`connect`)."""
        return Client(settings=self.resolve(), **client_options)

    def connect_async(self, **client_options: Any) -> AsyncClient:
        """An :class:`~camb_notebook.api.AsyncClient` for this service."""
        return AsyncClient(settings=self.resolve(), **client_options)


def choose_service(
    api_key: str | None = None, base_url: str | None = None, *, backend: Backend = None
) -> ServiceChoice:
    """Decide the service: arguments, then ``$CAMB_API_KEY`` / ``$CAMB_BASE_URL``, then the engine.

    Parameters
    ----------
    api_key, base_url : str, optional
        As for :class:`camb_notebook.api.Client`.
    backend : {"local", "cloud"} or None
        ``"local"`` always means the embedded engine (key and URL ignored); ``"cloud"`` means
        CAMB.AI's cloud (a key is required); None follows the key and base URL.

    Raises
    ------
    InputError
        An unknown *backend*.
    ConfigurationError
        A bad base URL, or the cloud without a key.

    Examples
    --------
    >>> choose_service(base_url="http://lab.example:8750/apis", api_key="k-123").label
    'lab.example'
    """
    if backend not in (None, "local", "cloud"):
        raise InputError(
            f"backend={backend!r} is not 'local' or 'cloud'; pass a service URL as base_url=",
            parameter="backend",
            value=backend,
        )
    if backend == "local":
        return ServiceChoice("engine")
    if backend == "cloud":
        settings = resolve_settings(api_key, CLOUD_BASE_URL)
    else:
        settings = resolve_settings(api_key, base_url)
    if settings is None:
        return ServiceChoice("engine")
    return ServiceChoice("cloud" if settings.origin == "cloud" else "custom", settings)


def connect(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    backend: Backend = None,
    **client_options: Any,
) -> Client:
    """A :class:`~camb_notebook.api.Client` for the chosen service (see :func:`choose_service`).

    Starts the embedded local engine when neither a key nor a base URL is given.

    Parameters
    ----------
    api_key, base_url, backend :
        As for :func:`choose_service`.
    **client_options :
        Passed to :class:`~camb_notebook.api.Client` (``store``, ``retry``, ``timeout`` …).

    Examples
    --------
    >>> with connect() as client:  # doctest: +SKIP
    ...     result = client.separate("song.mp3")
    """
    return choose_service(api_key, base_url, backend=backend).connect(**client_options)


def connect_async(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    backend: Backend = None,
    **client_options: Any,
) -> AsyncClient:
    """The :class:`~camb_notebook.api.AsyncClient` twin of :func:`connect`.

    Examples
    --------
    >>> async with connect_async() as client:  # doctest: +SKIP
    ...     result = await client.separate("song.mp3")
    """
    return choose_service(api_key, base_url, backend=backend).connect_async(**client_options)


@spelled_out(SeparateKwargs)
def separate(
    path: str | os.PathLike[str],
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    **options: Unpack[SeparateKwargs],
) -> SeparationResult:
    """Separate one clip into foreground and background stems.

    With no key and no base URL (nor ``$CAMB_API_KEY`` / ``$CAMB_BASE_URL``) it runs on the
    embedded local engine; with a key, on CAMB.AI's cloud. In a notebook the result displays
    players and plots.

    Parameters
    ----------
    path : str or Path
    api_key, base_url : str, optional
        As for :func:`connect`.
    **options :
        The options of :meth:`camb_notebook.api.Client.separate` (``out_dir``, ``reuse``,
        ``on_progress``, ``method`` …), described in :class:`camb_notebook.api.SeparateOptions`.

    Returns
    -------
    SeparationResult

    See Also
    --------
    separate_many, camb_notebook.api.Client.separate

    Examples
    --------
    >>> import camb_notebook
    >>> result = camb_notebook.separate("song.wav")  # doctest: +SKIP
    >>> result.foreground.name  # doctest: +SKIP
    'foreground.flac'
    """
    with connect(api_key, base_url) as client:
        return client.separate(path, **options)


@spelled_out(BatchKwargs)
def separate_many(
    paths: Iterable[str | os.PathLike[str]],
    *,
    concurrency: int = 4,
    on_progress: Callable[[Path, TaskStatus], Any] | None = None,
    return_exceptions: bool = False,
    api_key: str | None = None,
    base_url: str | None = None,
    **options: Unpack[BatchKwargs],
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
    **options :
        The options of :meth:`camb_notebook.api.Client.separate` but ``on_progress``
        (:class:`camb_notebook.api.SeparateOptions`).

    See Also
    --------
    separate, camb_notebook.api.AsyncClient.separate_many

    Examples
    --------
    >>> results = separate_many(["a.wav", "b.wav"], concurrency=2)  # doctest: +SKIP
    """
    with connect(api_key, base_url) as client:
        return client.separate_many(
            paths,
            concurrency=concurrency,
            on_progress=on_progress,
            return_exceptions=return_exceptions,
            **options,
        )
