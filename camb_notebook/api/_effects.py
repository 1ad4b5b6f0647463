"""The I/O requests the sans-I/O core yields; `Client` and `AsyncClient` carry them out.

The core's operations are generators: they ``yield`` one of these effects, and the shell sends
back the outcome (or throws the exception it raised). One implementation of every retry, poll
and download rule therefore serves both the blocking and the asyncio client.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from ._sink import StemSink

__all__ = ["Effect", "Flow", "Gather", "Notify", "Offload", "Send", "Sleep", "Stream"]

T = TypeVar("T")


@dataclass
class Send:
    """Send *request*, read the whole answer, return the ``httpx.Response``."""

    request: httpx.Request


@dataclass
class Stream:
    """Send *request*; on 200 write the body into *sink* chunk by chunk, else read it.

    Returns the (closed) ``httpx.Response``.
    """

    request: httpx.Request
    sink: StemSink


@dataclass
class Sleep:
    """Wait *seconds*; return True if *cancel* (an Event-like object) was set meanwhile."""

    seconds: float
    cancel: Any = None


@dataclass
class Gather:
    """Run the sub-flows concurrently; return their results in order (first error wins)."""

    flows: list[Flow[Any]]


@dataclass
class Notify:
    """Call ``callback(value)`` (awaited by the async client when it returns an awaitable)."""

    callback: Callable[[Any], Any]
    value: Any


@dataclass
class Offload:
    """Run ``fn()`` — slow local work (hashing a big file, probing it) — and return its result.

    The async client runs it in a worker thread so the event loop is never blocked.
    """

    fn: Callable[[], Any]


Effect = Send | Stream | Sleep | Gather | Notify | Offload

#: A core operation: yields effects, receives their outcomes, returns a T.
Flow = Generator[Effect, Any, T]
