"""When to try a request again and how long to wait first (no I/O here)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

__all__ = ["RETRY_STATUSES", "RetryPolicy", "parse_retry_after", "transport_error_is_safe"]

#: Answers that mean "not now": the request was not carried out, try again.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

# Failures where the request provably never reached the server's application.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Read the server's wait hint in seconds from ``retry-after-ms`` or ``Retry-After``.

    ``Retry-After`` may be seconds or an HTTP date; ``retry-after-ms`` (milliseconds) wins when
    both are present. Unparseable or negative values are ignored.

    Examples
    --------
    >>> parse_retry_after({"retry-after": "2"})
    2.0
    >>> parse_retry_after({"retry-after-ms": "250", "retry-after": "9"})
    0.25
    >>> parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0)
    10.0
    """
    lower = {k.lower(): v for k, v in headers.items()}
    ms = lower.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    raw = lower.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        value = when.timestamp() - (time.time() if now is None else now)
        return max(value, 0.0)
    return value if value >= 0 else None


def transport_error_is_safe(
    exc: httpx.TransportError, *, idempotent: bool, body_sent: bool
) -> bool:
    """Whether a request that failed in transport may be sent again without risk.

    Parameters
    ----------
    exc : httpx.TransportError
        What went wrong.
    idempotent : bool
        True for reads (GET, the results lookup): repeating them is always harmless.
    body_sent : bool
        True once the whole request body has left the client. A server can only act on a
        complete request, so until then a retry cannot create a second task.

    Examples
    --------
    >>> transport_error_is_safe(httpx.ConnectError("refused"), idempotent=False, body_sent=True)
    True
    >>> transport_error_is_safe(httpx.ReadError("reset"), idempotent=False, body_sent=True)
    False
    """
    return idempotent or isinstance(exc, _NEVER_SENT) or not body_sent


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a failing request.

    Waits grow exponentially (``backoff_base`` doubling up to ``backoff_max``), each drawn
    between half and all of that ceiling (jitter); a server's ``Retry-After`` or
    ``retry-after-ms`` takes precedence when present.

    Parameters
    ----------
    max_attempts : int
        Tries in total, the first included (1 disables retries).
    backoff_base : float
        First wait in seconds.
    backoff_max : float
        Longest wait we choose ourselves.
    max_retry_after : float
        Longest server-requested wait we accept; a longer hint ends the retries at once so the
        caller sees a :class:`~camb_notebook.RateLimitError` carrying ``retry_after``.
    jitter : bool
        Randomise waits (so many clients do not retry in lockstep).

    Examples
    --------
    >>> RetryPolicy(backoff_base=0.5, jitter=False).delay(3)
    2.0
    """

    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 300.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts={self.max_attempts} must be at least 1")
        if self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError(
                f"backoff_base={self.backoff_base} and backoff_max={self.backoff_max} "
                "must not be negative"
            )

    def delay(self, attempt: int, server_hint: float | None = None) -> float:
        """Seconds to wait after failed attempt number *attempt* (1-based).

        Examples
        --------
        >>> RetryPolicy().delay(1, server_hint=4.0)
        4.0
        """
        if server_hint is not None:
            return server_hint
        ceiling = float(min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1)))
        if not self.jitter:
            return ceiling
        # "Equal jitter": at least half the ceiling, so waits still grow.
        return ceiling / 2 + random.uniform(0, ceiling / 2)
