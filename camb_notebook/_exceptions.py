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

import os
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

    Attributes
    ----------
    message : str
        The redacted message (also ``str(error)``).
    """

    def __init__(self, message: str) -> None:
        message = redact(str(message))
        super().__init__(message)
        self.message = message

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
    parameter : str or None
        The name of the argument that was wrong, when it was an argument.
    value : object
        Its value.
    path : str or None
        The file that was wrong, when it was a file.

    Examples
    --------
    >>> err = InputError("sr=0 must be positive", parameter="sr", value=0)
    >>> err.parameter, err.value
    ('sr', 0)
    """

    def __init__(
        self,
        message: str,
        *,
        exception_reason: str | None = None,
        parameter: str | None = None,
        value: object = None,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.exception_reason = exception_reason
        self.parameter = parameter
        self.value = value
        self.path = None if path is None else os.fspath(path)


class AudioFormatError(InputError):
    """The file is not audio, is in an unsupported format, or does not match its extension."""


class AudioDecodeError(InputError):
    """The audio is empty, truncated or corrupt and cannot be decoded.

    Attributes
    ----------
    stopped_at : float or None
        For a truncated file, the time in seconds where decoding stopped.
    """

    def __init__(
        self, message: str, *, stopped_at: float | None = None, **input_context: Any
    ) -> None:
        super().__init__(message, **input_context)
        self.stopped_at = stopped_at


class LimitExceededError(InputError):
    """The clip (or another input) is longer or larger than the configured limit.

    Attributes
    ----------
    limit : float or None
        The limit (seconds or bytes, as the message says).
    actual : float or None
        What the input measured.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: float | None = None,
        actual: float | None = None,
        **input_context: Any,
    ) -> None:
        super().__init__(message, **input_context)
        self.limit = limit
        self.actual = actual


class ConfigurationError(CambError):
    """The toolkit is not set up for the request (key, base URL, model weights).

    Attributes
    ----------
    setting : str or None
        The setting that is wrong or missing (e.g. ``"host"``).
    value : object
        Its value.
    path : str or None
        The file involved (e.g. missing model weights).
    """

    def __init__(
        self,
        message: str,
        *,
        setting: str | None = None,
        value: object = None,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.setting = setting
        self.value = value
        self.path = None if path is None else os.fspath(path)


class APIError(CambError):
    """The service answered with an HTTP error.

    Attributes
    ----------
    status_code : int
        The HTTP status of the answer (0 when there was no answer).
    body : Any
        The decoded answer body (JSON when it was JSON, else text), secrets masked.
    attempts : int
        How many times the request was sent.
    """

    def __init__(
        self, message: str, *, status_code: int = 0, body: Any = None, attempts: int = 1
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.attempts = attempts


class AuthenticationError(APIError):
    """401 or 403: the API key is missing, wrong, or lacks permission."""


class RequestValidationError(APIError):
    """422: the service rejected the request.

    Attributes
    ----------
    detail : Any
        FastAPI's error list, as the service sent it.
    """

    def __init__(self, message: str, *, detail: Any = None, **api_context: Any) -> None:
        super().__init__(message, **api_context)
        self.detail = detail


class RateLimitError(APIError):
    """429 after the retries ran out.

    Attributes
    ----------
    retry_after : float or None
        The server's hint in seconds.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, **api_context: Any
    ) -> None:
        super().__init__(message, **api_context)
        self.retry_after = retry_after


class NotFoundError(APIError):
    """404: the task, run or file does not exist on this service."""


class ServerError(APIError):
    """5xx after the retries ran out."""


class TaskFailedError(CambError):
    """The separation task ended without a result.

    Attributes
    ----------
    task_id : str or None
    status : str or None
        The raw status value (``ERROR``, ``TIMEOUT``, ``PAYMENT_REQUIRED`` or unknown).
    exception_reason : str or None
        The service's reason code, e.g. ``SOURCE_TOO_LONG``.
    service_message : Any
        The service's ``message`` field, verbatim (secrets masked).
    """

    def __init__(
        self,
        message: str,
        *,
        task_id: str | None = None,
        status: str | None = None,
        exception_reason: str | None = None,
        service_message: Any = None,
    ) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.status = status
        self.exception_reason = exception_reason
        self.service_message = service_message


class PaymentRequiredError(TaskFailedError):
    """The account has no credit left for this task."""


class NetworkError(CambError):
    """The service could not be reached (connection refused, reset, DNS, read timeout).

    Attributes
    ----------
    attempts : int
        How many times the request was tried.
    """

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class SubmitUncertainError(NetworkError):
    """The upload broke after its body was sent: the service may have accepted it.

    It is not re-sent automatically, so a paid job is never charged twice.

    Attributes
    ----------
    content_hash : str or None
        SHA-256 of the file: its key in the task store.
    filename : str or None
    record_id : int or None
        The task store's record of the attempt (state ``UNCERTAIN``).
    """

    def __init__(
        self,
        message: str,
        *,
        content_hash: str | None = None,
        filename: str | None = None,
        record_id: int | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.content_hash = content_hash
        self.filename = filename
        self.record_id = record_id


class WaitTimeoutError(CambError, TimeoutError):
    """Our own deadline passed while the task was still running; the task goes on.

    Attributes
    ----------
    task_id : str or None
        The task waited for (None when several were).
    timeout : float or None
        The deadline in seconds.
    """

    def __init__(
        self, message: str, *, task_id: str | None = None, timeout: float | None = None
    ) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.timeout = timeout


class CancelledError(CambError):
    """The caller cancelled the operation.

    Attributes
    ----------
    task_id : str or None
        The task whose wait was cancelled (it goes on at the service).
    """

    def __init__(self, message: str, *, task_id: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id


class ResultExpiredError(CambError):
    """A result URL no longer serves its file (pre-signed URLs expire).

    Attributes
    ----------
    url : str or None
        The URL without its query (the signature never goes into an error).
    status_code : int
        The answer's HTTP status.
    run_id : int or None
        The run; ``client.result(run_id)`` gives fresh URLs.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status_code: int = 0,
        run_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status_code = status_code
        self.run_id = run_id
