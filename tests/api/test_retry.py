"""Retry rules without a network: hints, backoff, which failures are safe to repeat."""

from __future__ import annotations

import time
from email.utils import formatdate

import httpx
import pytest

from camb_notebook import NetworkError, SubmitUncertainError
from camb_notebook.api import Client, RetryPolicy, TaskStore, parse_retry_after
from camb_notebook.api._retry import RETRY_STATUSES, transport_error_is_safe


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "200", "retry-after": "7"}, 0.2),
        ({"retry-after-ms": "junk", "retry-after": "7"}, 7.0),
        ({"retry-after": "0"}, 0.0),  # "now" is a hint too
        ({"retry-after-ms": "0", "retry-after": "7"}, 0.0),
        ({"retry-after-ms": "-5", "retry-after": "7"}, 7.0),
        ({"retry-after": "-4"}, None),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date() -> None:
    now = time.time()
    assert parse_retry_after({"Retry-After": formatdate(now + 30, usegmt=True)}, now=now) == (
        pytest.approx(30, abs=1)
    )
    assert parse_retry_after({"Retry-After": formatdate(now - 30, usegmt=True)}, now=now) == 0.0
    # Without ``now`` the date is measured from the clock.
    assert parse_retry_after({"Retry-After": formatdate(time.time() + 60, usegmt=True)}) == (
        pytest.approx(60, abs=2)
    )


def test_backoff_doubles_to_the_cap_with_jitter() -> None:
    exact = RetryPolicy(backoff_base=1.0, backoff_max=60.0, jitter=False)
    assert [exact.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    jittered = RetryPolicy(backoff_base=1.0, backoff_max=60.0)
    for attempt in range(1, 9):
        ceiling = exact.delay(attempt)
        waits = [jittered.delay(attempt) for _ in range(500)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        # ... spread over the whole upper half (500 draws all below 95 %: p = 0.9**500).
        assert min(waits) < 0.55 * ceiling and max(waits) > 0.95 * ceiling
    assert jittered.delay(3, server_hint=12.5) == 12.5


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts=0 must be at least 1"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(
        ValueError, match=r"backoff_base=-1 and backoff_max=60\.0 must not be negative"
    ):
        RetryPolicy(backoff_base=-1)
    with pytest.raises(ValueError, match=r"backoff_max=-0\.5 must not be negative"):
        RetryPolicy(backoff_max=-0.5)


def test_policy_accepts_the_edges() -> None:
    """One attempt (no retries) and zero waits are valid settings, not errors."""
    assert RetryPolicy(max_attempts=1).max_attempts == 1
    instant = RetryPolicy(backoff_base=0.0, backoff_max=0.0)
    assert instant.delay(1) == 0.0 and instant.delay(5) == 0.0
    assert RetryPolicy(backoff_base=0.5, backoff_max=0.5, jitter=False).delay(4) == 0.5


def test_retry_statuses() -> None:
    assert {408, 409, 429, 500, 502, 503, 504} == set(RETRY_STATUSES)


@pytest.mark.parametrize(
    ("exc", "idempotent", "body_sent", "safe"),
    [
        (httpx.ConnectError("refused"), False, True, True),
        (httpx.ConnectTimeout("slow"), False, True, True),
        (httpx.PoolTimeout("busy"), False, True, True),
        (httpx.ReadError("reset"), False, True, False),
        (httpx.RemoteProtocolError("gone"), False, True, False),
        (httpx.ReadTimeout("slow"), False, True, False),
        (httpx.WriteError("reset"), False, False, True),  # the server never had it all
        (httpx.ReadError("reset"), True, True, True),  # GETs are always safe
    ],
)
def test_transport_error_safety(
    exc: httpx.TransportError, idempotent: bool, body_sent: bool, safe: bool
) -> None:
    assert transport_error_is_safe(exc, idempotent=idempotent, body_sent=body_sent) is safe


# Edge cases the emulator cannot produce on demand, through an httpx.MockTransport.


def _client(handler: httpx.MockTransport, store: TaskStore) -> Client:
    fast = RetryPolicy(max_attempts=3, backoff_base=0.001)
    return Client("key-abcdef", "http://svc.test/apis", transport=handler, store=store, retry=fast)


def test_read_error_after_the_whole_body_is_uncertain(store: TaskStore) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.read())  # the transport consumed the whole body ...
        raise httpx.ReadError("connection reset by peer")  # ... then the answer was lost

    with (
        _client(httpx.MockTransport(handler), store) as client,
        pytest.raises(SubmitUncertainError, match="ReadError"),
    ):
        client.submit(b"RIFF\x00\x00\x00\x00WAVEdata")
    assert len(calls) == 1
    assert store.all()[0].state == "UNCERTAIN"


def test_local_protocol_errors_are_not_retried(store: TaskStore) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.LocalProtocolError("bad header")

    with (
        _client(httpx.MockTransport(handler), store) as client,
        pytest.raises(NetworkError, match="LocalProtocolError"),
    ):
        client.status("t")
    assert len(calls) == 1


def test_get_is_retried_on_any_transport_error(store: TaskStore) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            raise httpx.RemoteProtocolError("server disconnected")
        return httpx.Response(200, json={"status": "PENDING", "run_id": None})

    with _client(httpx.MockTransport(handler), store) as client:
        assert client.status("t").status == "PENDING"
    assert len(calls) == 3
