"""The one exception tree of camb_notebook.

Every error the toolkit raises on purpose derives from :class:`CambError`, so
``except camb_notebook.CambError`` catches all of them. The branches are the
kinds of failure a caller actually reacts to differently::

    CambError
    ├── InputError (also ValueError)       the file or an argument is wrong: fix it, retry
    │   ├── AudioFormatError               not audio / unsupported / content ≠ extension
    │   ├── AudioDecodeError               empty, truncated or corrupt audio data
    │   └── LimitExceededError             too long or too large for the configured limits
    ├── ConfigurationError                 missing key, bad base URL, missing model weights
    ├── APIError                           the service answered with an error status
    │   ├── AuthenticationError            401 / 403: key missing, wrong or not allowed
    │   ├── RequestValidationError         422: the service rejected the request's shape
    │   ├── RateLimitError                 429 after all retries (carries retry_after)
    │   ├── NotFoundError                  404 for a task or run that does not exist
    │   └── ServerError                    5xx after all retries
    ├── TaskFailedError                    the task ended in ERROR, TIMEOUT, PAYMENT_REQUIRED, …
    │   └── PaymentRequiredError
    ├── NetworkError                       could not reach the service (connect, read, DNS)
    │   └── SubmitUncertainError           the upload may have been accepted: not re-sent
    ├── WaitTimeoutError (also TimeoutError)  our own deadline passed while the task runs
    ├── CancelledError                     the caller cancelled a wait or a download
    └── ResultExpiredError                 a result URL no longer serves the file

Messages name the bad value, the limit and what to do. They never contain the
API key: :func:`redact` is applied to anything that might carry it.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "APIError",
    "AudioDecodeError",
    "AudioFormatError",
    "AuthenticationError",
    "CambError",
    "CancelledError",
    "ConfigurationError",
    "InputError",
    "LimitExceededError",
    "NetworkError",
    "NotFoundError",
    "PaymentRequiredError",
    "RateLimitError",
    "RequestValidationError",
    "ResultExpiredError",
    "ServerError",
    "SubmitUncertainError",
    "TaskFailedError",
    "WaitTimeoutError",
    "redact",
]

_SECRETS: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember *value* so :func:`redact` removes it from any text (keys of 4+ chars)."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """Return *text* with every registered secret and any ``x-api-key`` value masked.

    Examples
    --------
    >>> register_secret("sk-test-123456")
    >>> redact("x-api-key: sk-test-123456")
    'x-api-key: ***'
    """
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return re.sub(r"(?i)(x-api-key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+", r"\1***", text)


class CambError(Exception):
    """Base class of every error camb_notebook raises on purpose.

    Parameters
    ----------
    message : str
        What went wrong and what to do; secrets are redacted from it.
    """

    def __init__(self, message: str, **context: Any) -> None:
        message = redact(str(message))
        super().__init__(message)
        self.message = message
        for name, value in context.items():
            setattr(self, name, value)

    def __str__(self) -> str:
        return self.message


class InputError(CambError, ValueError):
    """The input (a file or an argument) is not acceptable; nothing was uploaded.

    Attributes
    ----------
    exception_reason : str or None
        For audio problems, the reason code CAMB.AI uses for the same problem
        (``SOURCE_TYPE_NOT_SUPPORTED``, ``CONTENT_DOES_NOT_MATCH_EXTENSION``,
        ``INVALID_SOURCE_DATA``, ``SOURCE_TOO_LONG``, ``SOURCE_TOO_LARGE``).
    """

    exception_reason: str | None = None


class AudioFormatError(InputError):
    """The file is not audio, is in an unsupported format, or does not match its extension."""


class AudioDecodeError(InputError):
    """The audio is empty, truncated or corrupt and cannot be decoded."""


class LimitExceededError(InputError):
    """The clip is longer or larger than the configured limit."""


class ConfigurationError(CambError):
    """The toolkit is not set up for the request (key, base URL, model weights)."""


class APIError(CambError):
    """The service answered with an HTTP error.

    Attributes
    ----------
    status_code : int
        The HTTP status of the answer.
    body : Any
        The decoded answer body (JSON when it was JSON, else text), for inspection.
    """

    status_code: int = 0
    body: Any = None


class AuthenticationError(APIError):
    """401 or 403: the API key is missing, wrong, or lacks permission."""


class RequestValidationError(APIError):
    """422: the service rejected the request; ``detail`` holds FastAPI's error list."""

    detail: Any = None


class RateLimitError(APIError):
    """429 after the retries ran out; ``retry_after`` is the server's hint in seconds."""

    retry_after: float | None = None


class NotFoundError(APIError):
    """404: the task, run or file does not exist on this service."""


class ServerError(APIError):
    """5xx after the retries ran out."""


class TaskFailedError(CambError):
    """The separation task ended without a result.

    Attributes
    ----------
    task_id : str
    status : str
        The raw status value (``ERROR``, ``TIMEOUT``, ``PAYMENT_REQUIRED`` or unknown).
    exception_reason : str or None
        The service's reason code, e.g. ``SOURCE_TOO_LONG``.
    service_message : Any
        The service's ``message`` field, verbatim.
    """

    task_id: str | None = None
    status: str | None = None
    exception_reason: str | None = None
    service_message: Any = None


class PaymentRequiredError(TaskFailedError):
    """The account has no credit left for this task."""


class NetworkError(CambError):
    """The service could not be reached (connection refused, reset, DNS, read timeout)."""


class SubmitUncertainError(NetworkError):
    """The upload broke after its body was sent: the service may have accepted it.

    It is not re-sent automatically, so a paid job is never charged twice.
    ``content_hash`` identifies the file in the task store.
    """

    content_hash: str | None = None


class WaitTimeoutError(CambError, TimeoutError):
    """Our own deadline passed while the task was still running; the task goes on."""

    task_id: str | None = None


class CancelledError(CambError):
    """The caller cancelled the operation."""


class ResultExpiredError(CambError):
    """A result URL no longer serves its file (pre-signed URLs expire)."""

    url: str | None = None
