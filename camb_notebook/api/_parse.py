"""Read the service's JSON answers into the client's models (no I/O here)."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx

from ._models import ResultURLs, TaskStatus

__all__ = ["MalformedAnswer", "parse_json", "parse_result", "parse_results", "parse_status"]

_FG_KEYS = ("foreground_audio_url", "foreground_url")
_BG_KEYS = ("background_audio_url", "background_url")


class MalformedAnswer(Exception):
    """A 2xx answer whose body is not what the contract promises (internal; never escapes)."""


def parse_json(response: httpx.Response) -> Any:
    """The decoded JSON body, or MalformedAnswer naming the first bytes."""
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedAnswer(f"not JSON: {response.content[:80]!r}") from exc


def _as_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _count(value: Any, least: int) -> int | None:
    """*value* when it is a JSON integer of at least *least*, else None (never a bool or "2")."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= least:
        return value
    return None


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def parse_status(data: Any, task_id: str, retry_after: float | None = None) -> TaskStatus:
    """A status answer as :class:`TaskStatus`; accepts the old ``foreground_url`` names too.

    The optional ``queue_position`` (at least 1) and ``queue_length`` (at least 0) are kept when
    they are integers; absent, null or anything else reads as None.

    Examples
    --------
    >>> parse_status({"status": "SUCCESS", "run_id": 7, "foreground_url": "f",
    ...               "background_url": "b"}, "t").urls
    ResultURLs(foreground_url='f', background_url='b', run_id=7)
    >>> parse_status({"status": "PENDING", "queue_position": 2, "queue_length": "5"}, "t")
    TaskStatus(status='PENDING', ..., queue_position=2, queue_length=None)
    """
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        raise MalformedAnswer(f"no 'status' string in {json.dumps(data)[:200]}")
    progress = data.get("progress")
    if isinstance(progress, (int, float)) and not isinstance(progress, bool):
        progress = min(max(float(progress), 0.0), 100.0) if math.isfinite(progress) else None
    else:
        progress = None
    method = data.get("method")
    return TaskStatus(
        status=data["status"],
        run_id=_as_int(data.get("run_id")),
        exception_reason=data.get("exception_reason") or None,
        message=data.get("message"),
        progress=progress,
        method=method if isinstance(method, str) else None,
        foreground_url=_first(data, _FG_KEYS),
        background_url=_first(data, _BG_KEYS),
        raw=data,
        task_id=task_id,
        retry_after=retry_after,
        queue_position=_count(data.get("queue_position"), 1),
        queue_length=_count(data.get("queue_length"), 0),
    )


def parse_result(data: Any, run_id: int | None) -> ResultURLs:
    """A result answer (``foreground_audio_url`` / ``background_audio_url``) as ResultURLs."""
    fg = _first(data, _FG_KEYS) if isinstance(data, dict) else None
    bg = _first(data, _BG_KEYS) if isinstance(data, dict) else None
    if fg is None or bg is None:
        raise MalformedAnswer(f"no foreground/background URLs in {json.dumps(data)[:200]}")
    return ResultURLs(fg, bg, run_id)


def parse_results(data: Any) -> dict[int, ResultURLs]:
    """The batch answer ``{"<run_id>": {...urls...}, ...}`` keyed by int run id."""
    if not isinstance(data, dict):
        raise MalformedAnswer(f"expected an object keyed by run id, got {json.dumps(data)[:200]}")
    out: dict[int, ResultURLs] = {}
    for key, value in data.items():
        run_id = _as_int(key)
        if run_id is None:
            raise MalformedAnswer(f"run id {key!r} is not an integer")
        out[run_id] = parse_result(value, run_id)
    return out
