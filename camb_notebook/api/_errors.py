"""Turn the service's error answers and failed statuses into exceptions that say what to do."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .._exceptions import (
    APIError,
    AuthenticationError,
    CambError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    TaskFailedError,
    redact,
)
from .._vocabulary import PAYMENT_REQUIRED, advice_for
from ._models import TaskStatus
from ._retry import parse_retry_after

__all__ = [
    "error_from_response",
    "response_body",
    "scrub",
    "task_failed_error",
]


def scrub(value: Any) -> Any:
    """*value* with every registered secret masked in all its strings (JSON-like data)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def response_body(response: httpx.Response) -> Any:
    """The answer's body, secrets masked: decoded JSON when it parses, else (≤ 1000 chars of) text.

    A service that echoes the key back in an error must not get it into an exception.
    """
    try:
        return scrub(response.json())
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return redact(response.text[:1000])


def _detail_text(body: Any) -> str:
    """A short human reading of a FastAPI ``detail`` (list of errors, or a string)."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []))
                parts.append(f"{loc}: {item.get('msg', item)}" if loc else str(item.get("msg")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    text = detail if isinstance(detail, str) else json.dumps(detail)
    return text[:300]


def error_from_response(response: httpx.Response, what: str, attempts: int = 1) -> CambError:
    """Map an HTTP error answer to the matching :class:`~camb_notebook.APIError` subclass.

    Parameters
    ----------
    response : httpx.Response
        An answer with status >= 400 (body already read).
    what : str
        The action, e.g. ``"submit song.wav"``, used to start the message.
    attempts : int
        How many times the request was sent (mentioned for retried errors).
    """
    code = response.status_code
    body = response_body(response)
    detail = _detail_text(body)
    where = f"{response.request.url.scheme}://{response.request.url.netloc.decode()}"
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if code == 401:
        return AuthenticationError(
            f"{what}: {where} rejected the API key (401 Unauthorized: {detail}). Pass a valid "
            "key with api_key=... or set the CAMB_API_KEY environment variable.",
            status_code=code,
            body=body,
            attempts=attempts,
        )
    if code == 403:
        return AuthenticationError(
            f"{what}: the API key is not allowed to do this on {where} (403 Forbidden: "
            f"{detail}). Use a key with access to audio separation, or ask the account owner.",
            status_code=code,
            body=body,
            attempts=attempts,
        )
    if code == 404:
        return NotFoundError(
            f"{what}: not found on {where} (404: {detail}). Check the id; tasks and runs exist "
            "only on the service that created them.",
            status_code=code,
            body=body,
            attempts=attempts,
        )
    if code == 422:
        return RequestValidationError(
            f"{what}: the service rejected the request (422: {detail}).",
            detail=body,
            status_code=code,
            body=body,
            attempts=attempts,
        )
    if code == 429:
        hint = parse_retry_after(response.headers)
        wait = f"wait {hint:.0f} s" if hint is not None and hint >= 10 else "wait a minute"
        if hint is not None and hint < 10:
            wait = f"wait {hint:.2g} s"
        return RateLimitError(
            f"{what}: rate limited by {where} (429){tries}. {wait} and try again, or lower the "
            "concurrency of separate_many().",
            retry_after=hint,
            status_code=code,
            body=body,
            attempts=attempts,
        )
    if code >= 500:
        return ServerError(
            f"{what}: {where} answered {code} {response.reason_phrase}{tries} ({detail}). The "
            "service is having trouble; try again later.",
            status_code=code,
            body=body,
            attempts=attempts,
        )
    return APIError(
        f"{what}: {where} answered {code} {response.reason_phrase} ({detail}).",
        status_code=code,
        body=body,
        attempts=attempts,
    )


def task_failed_error(status: TaskStatus) -> TaskFailedError:
    """The exception for a terminal status other than ``SUCCESS``, with advice for the user.

    Examples
    --------
    >>> status = TaskStatus("ERROR", exception_reason="SOURCE_TOO_LONG", task_id="t")
    >>> err = task_failed_error(status)
    >>> "split the clip" in str(err)
    True
    """
    reason = status.exception_reason
    code = status.status.upper()
    known = advice_for(reason, code)
    if known is not None:
        advice = known.advice
    else:
        advice = (
            f"the service reported a status this client does not know ({status.status!r}); "
            "treat the task as failed, and check for a newer camb_notebook"
        )
    said = ""
    if status.message:
        msg = status.message if isinstance(status.message, str) else json.dumps(status.message)
        said = f" The service said: {msg[:300]}"
    why = f", reason {reason}" if reason else ""
    cls = PaymentRequiredError if PAYMENT_REQUIRED in (code, reason) else TaskFailedError
    return cls(
        f"task {status.task_id} ended with status {status.status}{why}: {advice}.{said}",
        task_id=status.task_id,
        status=status.status,
        exception_reason=reason,
        service_message=scrub(status.message),
    )
