"""camb_notebook: audio separation as a first-class, visual thing inside Jupyter.

Examples
--------
>>> import camb_notebook
>>> result = camb_notebook.separate("song.mp3")  # doctest: +SKIP
>>> client = camb_notebook.connect()  # doctest: +SKIP
>>> camb_notebook.SeparationWidget()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIError,
    AudioDecodeError,
    AudioFormatError,
    AuthenticationError,
    CambError,
    CancelledError,
    ConfigurationError,
    InputError,
    LimitExceededError,
    NetworkError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    RequestValidationError,
    ResultExpiredError,
    ServerError,
    SubmitUncertainError,
    TaskFailedError,
    WaitTimeoutError,
)
from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from ._connect import (
        ServiceChoice,
        choose_service,
        connect,
        connect_async,
        separate,
        separate_many,
    )
    from .api import AsyncClient, Client, SeparationResult
    from .comparison import Comparison, compare
    from .widget import SeparationWidget

# Heavy parts (httpx, anywidget) load on first use, so `import camb_notebook` stays quick.
_LAZY = {
    "AsyncClient": "api",
    "Client": "api",
    "SeparationResult": "api",
    "SeparationWidget": "widget",
    "Comparison": "comparison",
    "ServiceChoice": "_connect",
    "choose_service": "_connect",
    "compare": "comparison",
    "connect": "_connect",
    "connect_async": "_connect",
    "separate": "_connect",
    "separate_many": "_connect",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'camb_notebook' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "APIError",
    "AsyncClient",
    "AudioDecodeError",
    "AudioFormatError",
    "AuthenticationError",
    "CambError",
    "CancelledError",
    "Client",
    "Comparison",
    "ConfigurationError",
    "InputError",
    "LimitExceededError",
    "NetworkError",
    "NotFoundError",
    "PaymentRequiredError",
    "RateLimitError",
    "RequestValidationError",
    "ResultExpiredError",
    "SeparationResult",
    "SeparationWidget",
    "ServerError",
    "ServiceChoice",
    "SubmitUncertainError",
    "TaskFailedError",
    "WaitTimeoutError",
    "__version__",
    "choose_service",
    "compare",
    "connect",
    "connect_async",
    "separate",
    "separate_many",
]
