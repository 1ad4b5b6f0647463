"""Which service to talk to, with which key: arguments, then environment, then defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import httpx

from .._config import CLOUD_BASE_URL, ENV_API_KEY, ENV_BASE_URL
from .._exceptions import ConfigurationError, register_secret

__all__ = ["DEFAULT_TIMEOUT", "Settings", "require_settings", "resolve_settings"]

#: Connect quickly or fail; allow a minute for each read and write.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


@dataclass(frozen=True)
class Settings:
    """The resolved service: ``origin`` is ``"cloud"``, ``"engine"`` or ``"custom"``.

    ``identity`` names the service in the task store when its URL is not stable: the
    embedded local engine gets a new port in every kernel, so it is stored as
    ``"local-engine"`` and a restarted kernel still finds its finished separations.
    """

    base_url: str
    api_key: str | None = field(repr=False)
    origin: str
    identity: str | None = None

    @property
    def store_key(self) -> str:
        """What the task store files this service's tasks under: ``identity`` or the URL."""
        return self.identity or self.base_url

    def __repr__(self) -> str:
        key = "'***'" if self.api_key else "None"
        ident = f", identity={self.identity!r}" if self.identity else ""
        return f"Settings(base_url={self.base_url!r}, api_key={key}, origin={self.origin!r}{ident})"


def _check_base_url(base_url: str) -> str:
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(
            f"base_url={base_url!r} is not a URL ({exc}); expected e.g. {CLOUD_BASE_URL!r}",
            setting="base_url",
            value=base_url,
        ) from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"base_url={base_url!r} must be an http(s) URL with a host, e.g. {CLOUD_BASE_URL!r}",
            setting="base_url",
            value=base_url,
        )
    register_secret(url.password)  # https://user:password@host/... stays out of messages too
    return base_url.rstrip("/")


def resolve_settings(api_key: str | None = None, base_url: str | None = None) -> Settings | None:
    """Decide the service and key from arguments and environment; start nothing.

    ``api_key=`` or ``$CAMB_API_KEY``; ``base_url=`` or ``$CAMB_BASE_URL``. A key without a
    base URL means CAMB.AI's cloud. Neither means no service is configured: ``None`` is
    returned, and :func:`camb_notebook.connect` then starts the embedded local engine
    (this module never does: the client layer does not know the engine).

    Raises
    ------
    ConfigurationError
        The base URL is not an http(s) URL, or it is CAMB.AI's cloud without a key.

    Examples
    --------
    >>> resolve_settings("sk-123456").base_url
    'https://client.camb.ai/apis'
    >>> resolve_settings(base_url="http://127.0.0.1:8750/apis").origin
    'custom'
    """
    # An explicit "" means "no key" (and does not fall back to the environment).
    key = (api_key if api_key is not None else os.environ.get(ENV_API_KEY)) or None
    url = (base_url if base_url is not None else os.environ.get(ENV_BASE_URL)) or None
    register_secret(key)
    if url is None and key is None:
        return None
    if url is None:
        return Settings(CLOUD_BASE_URL, key, "cloud")
    url = _check_base_url(url)
    if key is None and url == CLOUD_BASE_URL:
        raise ConfigurationError(
            f"base_url={url!r} is CAMB.AI's cloud, which needs an API key: pass api_key= or "
            f"set {ENV_API_KEY}",
            setting="api_key",
        )
    return Settings(url, key, "cloud" if url == CLOUD_BASE_URL else "custom")


def require_settings(api_key: str | None = None, base_url: str | None = None) -> Settings:
    """:func:`resolve_settings`, or a clear error when no service is configured.

    Raises
    ------
    ConfigurationError
        Neither a key nor a base URL was given (nor set in the environment).

    Examples
    --------
    >>> require_settings("sk-123456").origin
    'cloud'
    """
    settings = resolve_settings(api_key, base_url)
    if settings is None:
        raise ConfigurationError(
            "no service given: pass api_key= (or set CAMB_API_KEY) for CAMB.AI's cloud, or "
            "base_url= (or CAMB_BASE_URL) for a `camb-notebook serve` server; for the embedded "
            "local engine use camb_notebook.connect() or camb_notebook.separate()",
            setting="base_url",
        )
    return settings
