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

__all__ = ["Effect", "Flow", "Gather", "Notify", "Send", "Sleep", "Stream"]

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


Effect = Send | Stream | Sleep | Gather | Notify

#: A core operation: yields effects, receives their outcomes, returns a T.
Flow = Generator[Effect, Any, T]
