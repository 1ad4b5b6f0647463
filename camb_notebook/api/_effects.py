"""The I/O requests the sans-I/O core yields; `Client` and `AsyncClient` carry them out.

The core's operations are generators: they ``yield`` one of these effects, and the shell sends
back the outcome (or throws the exception it raised). One implementation of every retry, poll
and download rule therefore serves both the blocking and the asyncio client.

Network work is :class:`Send` and :class:`Stream`, pauses are :class:`Sleep`, and every piece
of blocking local work (the task store, folders, copies, hashing, probing) is :class:`Offload`,
which the asyncio client runs in a worker thread.
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
    """Send *request*; on 200 stream the body into *sink* and finish it, else read the body.

    The shell owns the sink for the attempt: ``begin()``, ``write()`` per chunk, ``finish()``
    (after which ``sink.path`` is the saved file), and ``abort()`` when anything fails part-way,
    so no partial file outlives a failed attempt. Returns the (closed) ``httpx.Response``.
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
    """Run ``fn()`` — blocking local work — and return its result (or raise its exception).

    Everything the core does on the local machine goes through here: task-store reads and
    writes, making folders, copying stems, hashing and probing a file. ``Client`` runs it
    inline; ``AsyncClient`` runs it in a worker thread so the event loop never waits on the
    disk.
    """

    fn: Callable[[], Any]


Effect = Send | Stream | Sleep | Gather | Notify | Offload

#: A core operation: yields effects, receives their outcomes, returns a T.
Flow = Generator[Effect, Any, T]
