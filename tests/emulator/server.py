"""A strict CAMB.AI audio-separation emulator with fault injection, for tests.

It is a real HTTP/1.1 server on 127.0.0.1 (an OS-chosen port), written on raw asyncio streams
so that it can do what a framework hides: reset a connection before or after reading an upload,
answer slowly, send broken JSON. It runs in a background thread::

    with Emulator() as emu:
        client = Client(emu.api_key, emu.base_url)
        emu.fail_next("submit", 429, retry_after=1)
        ...
        assert emu.submissions == 1

The contract follows ``DESIGN.md`` §1: ``POST /apis/audio-separation`` (multipart, only the
``media_file`` field, FastAPI-shaped 422 otherwise), ``GET /apis/audio-separation/{task_id}``,
``GET /apis/audio-separation-result/{run_id}``, ``POST /apis/audio-separation-results``; every
call needs ``x-api-key`` (401) with per-key permissions (403). Result files are served from
``/files/<token>/<stem>`` without a key, like pre-signed URLs, and can be expired.

"Separating" is a fixed transform (both stems are the mixture times 0.5, as FLAC), so the stems
are real audio whose sum is the original: this is a test double, not a separation method.
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import python_multipart
import soundfile as sf

from ._loop import LoopServer, read_head

__all__ = ["DEFAULT_KEY", "READONLY_KEY", "Emulator", "Fault", "reset"]

DEFAULT_KEY = "emu-key-5f2b9c0d41e7"
READONLY_KEY = "emu-readonly-8a61d3"

_REASONS = {
    200: "OK",
    302: "Found",
    307: "Temporary Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

ENDPOINTS = ("submit", "status", "result", "results", "file")


@dataclass
class Fault:
    """One injected misbehaviour of an endpoint.

    status : answer with this HTTP status instead of doing the work (nothing is created); a 3xx
        redirects to the same URL unless ``headers`` has a ``location``.
    reset : ``"before_body"`` (drop the connection with a TCP reset after the headers, without
        reading the upload) or ``"after_body"`` (read it, create the task, then reset instead of
        answering). For other endpoints any value resets before answering.
    delay : seconds to wait before answering (after the work, so a slow submit still creates).
    malformed : do the work, then answer 200 with a body that is not JSON.
    trickle : ``file`` only: send the file in 1 KiB pieces this many seconds apart (a slow link).
    retry_after, retry_after_ms, body, headers : what the faulty answer carries.
    """

    status: int | None = None
    reset: str | None = None
    delay: float = 0.0
    malformed: bool = False
    trickle: float = 0.0
    retry_after: float | str | None = None
    retry_after_ms: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Task:
    task_id: str
    media: bytes
    filename: str
    form: dict[str, str]
    outcome: tuple[str, str | None, Any] | None  # forced terminal (status, reason, message)
    polls: int = 0
    status: str = "PENDING"
    run_id: int | None = None
    exception_reason: str | None = None
    message: Any = None


@dataclass
class _Request:
    method: str
    target: str
    headers: dict[str, str]
    writer: asyncio.StreamWriter
    reader: asyncio.StreamReader
    entry: dict[str, Any] | None = None

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


class _Reset(Exception):
    """Drop the connection with a TCP reset."""


class Emulator(LoopServer):
    """The emulated service (see the module docstring).

    Start and stop it with ``with Emulator() as emu:`` (or ``start()`` / ``stop()``).

    Parameters
    ----------
    keys : dict, optional
        API key -> permissions (``"submit"``, ``"read"``). Default: :data:`DEFAULT_KEY` with
        both and :data:`READONLY_KEY` with ``read`` only.
    pending_polls : int
        Status polls answered PENDING before a task ends.
    progress : bool
        Add a ``progress`` field (percent), as the local engine does; the cloud does not.
    urls_in_status : None, "new" or "legacy"
        Put result URLs in the SUCCESS status answer (``foreground_audio_url`` or the old
        ``foreground_url`` names); None (the cloud's way) makes clients call the result endpoint.
    poll_retry_after : float, optional
        ``Retry-After`` header on PENDING answers.
    """

    thread_name = "camb-emulator"

    def __init__(
        self,
        keys: dict[str, set[str]] | None = None,
        *,
        pending_polls: int = 1,
        progress: bool = True,
        urls_in_status: str | None = None,
        poll_retry_after: float | None = None,
    ) -> None:
        super().__init__()
        self.keys = (
            keys if keys is not None else {DEFAULT_KEY: {"submit", "read"}, READONLY_KEY: {"read"}}
        )
        self.pending_polls = pending_polls
        self.progress = progress
        self.urls_in_status = urls_in_status
        self.poll_retry_after = poll_retry_after
        self.submissions = 0
        self.max_pending = 0
        self.requests: list[dict[str, Any]] = []
        self.last_form: dict[str, str] = {}
        self.last_filename: str | None = None
        self._faults: dict[str, deque[Fault]] = {e: deque() for e in ENDPOINTS}
        self._outcomes: deque[tuple[str, str | None, Any]] = deque()
        self._tasks: dict[str, _Task] = {}
        self._runs: dict[int, _Task] = {}
        self._stems: dict[int, dict[str, bytes]] = {}
        self._tokens: dict[str, tuple[int, str, bool]] = {}  # token -> run, stem, expired
        self._lock = threading.Lock()

    # -- control API (called from the test's thread) ----------------------------------------

    @property
    def api_key(self) -> str:
        """A key with every permission."""
        return DEFAULT_KEY

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/apis"

    def fail_next(
        self, endpoint: str, status: int | None = None, *, times: int = 1, **kw: Any
    ) -> None:
        """Make the next *times* requests to *endpoint* misbehave (see :class:`Fault`)."""
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint={endpoint!r}; expected one of {ENDPOINTS}")
        with self._lock:
            for _ in range(times):
                self._faults[endpoint].append(Fault(status=status, **kw))

    def finish_next(
        self, status: str, exception_reason: str | None = None, message: Any = None
    ) -> None:
        """The next submitted task ends with this status instead of SUCCESS."""
        with self._lock:
            self._outcomes.append((status, exception_reason, message))

    def expire_urls(self) -> None:
        """Every result URL handed out so far stops working (403, as S3 does)."""
        with self._lock:
            self._tokens = {t: (r, s, True) for t, (r, s, _) in self._tokens.items()}

    def forget_tasks(self) -> None:
        """Lose every task (as a restarted service would); status calls answer 404."""
        with self._lock:
            self._tasks.clear()

    def count(self, endpoint: str) -> int:
        """Requests received by *endpoint* (faulty ones included)."""
        with self._lock:
            return sum(1 for r in self.requests if r["endpoint"] == endpoint)

    def task(self, task_id: str) -> _Task:
        return self._tasks[task_id]

    # -- HTTP --------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (head := await read_head(reader)) is not None:
            method, target, headers = head
            req = _Request(method, target, headers, writer, reader)
            try:
                await self._handle(req)
            except _Reset:
                reset(writer)
                return
            if headers.get("connection", "").lower() == "close":
                return

    async def _body(self, req: _Request) -> bytes:
        if req.headers.get("transfer-encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int((await req.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await req.reader.readuntil(b"\r\n")
                    return bytes(out)
                out += await req.reader.readexactly(size)
                await req.reader.readexactly(2)
        return await req.reader.readexactly(int(req.headers.get("content-length", "0")))

    async def _send(
        self,
        req: _Request,
        status: int,
        body: bytes | Any,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
        trickle: float = 0.0,
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        hdrs = {"content-type": content_type, "content-length": str(len(data))}
        hdrs.update(headers or {})
        lines += [f"{k}: {v}" for k, v in hdrs.items()]
        self._log(req, status)
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if not trickle:
            req.writer.write(head + data)
            await req.writer.drain()
            return
        req.writer.write(head)
        for start in range(0, len(data), 1024):
            req.writer.write(data[start : start + 1024])
            await req.writer.drain()
            await asyncio.sleep(trickle)

    def _log(self, req: _Request, status: int | str | None) -> None:
        """Log a request when it arrives (status None), then its answer (before it is sent)."""
        with self._lock:
            if req.entry is None:
                req.entry = {
                    "method": req.method,
                    "path": req.path,
                    "endpoint": _endpoint(req),
                    "status": status,
                    "had_key": "x-api-key" in req.headers,
                    "time": time.monotonic(),
                }
                self.requests.append(req.entry)
            req.entry["status"] = status

    def _fault(self, endpoint: str) -> Fault | None:
        with self._lock:
            queue = self._faults[endpoint]
            return queue.popleft() if queue else None

    async def _handle(self, req: _Request) -> None:
        endpoint = _endpoint(req)
        self._log(req, None)
        if endpoint is None:
            await self._body(req)
            await self._send(req, 404, {"detail": "Not Found"})
            return
        fault = self._fault(endpoint)
        early = fault is not None and fault.reset and fault.reset != "after_body"
        if early:
            self._log(req, "reset")
            raise _Reset
        body = await self._body(req)
        if fault is not None and fault.status is not None:
            await self._faulty_answer(req, fault)
            return
        if endpoint == "file":
            await self._file(req, fault.trickle if fault is not None else 0.0)
            return
        status, answer = self._authorise(req, "submit" if endpoint == "submit" else "read")
        if status == 200:
            handler = {
                "submit": self._submit,
                "status": self._status,
                "result": self._result,
                "results": self._results,
            }[endpoint]
            status, answer = handler(req, body)
        if fault is not None:
            if fault.reset:  # "after_body" on submit: the work is done, the answer is lost
                self._log(req, "reset")
                raise _Reset
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.malformed:
                await self._send(req, 200, b'{"task_id": "unterminated')
                return
        extra = {}
        if endpoint == "status" and answer.get("status") == "PENDING" and self.poll_retry_after:
            extra["retry-after"] = str(self.poll_retry_after)
        await self._send(req, status, answer, extra)

    async def _faulty_answer(self, req: _Request, fault: Fault) -> None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        headers = dict(fault.headers)
        if 300 <= (fault.status or 0) < 400:
            headers.setdefault("location", req.target)  # e.g. a CDN bouncing to itself
        if fault.retry_after is not None:
            headers["retry-after"] = str(fault.retry_after)
        if fault.retry_after_ms is not None:
            headers["retry-after-ms"] = str(fault.retry_after_ms)
        assert fault.status is not None
        body = fault.body if fault.body is not None else {"detail": _REASONS.get(fault.status, "")}
        await self._send(req, fault.status, body, headers)

    def _authorise(self, req: _Request, permission: str) -> tuple[int, dict[str, Any]]:
        key = req.headers.get("x-api-key")
        if not key or key not in self.keys:
            return 401, {"detail": "Invalid or missing API key"}
        if permission not in self.keys[key]:
            return 403, {"detail": f"This API key does not have the '{permission}' permission"}
        return 200, {}

    # -- endpoints ---------------------------------------------------------------------------

    def _submit(self, req: _Request, body: bytes) -> tuple[int, dict[str, Any]]:
        fields, files = _parse_form(req.headers, body)
        errors = []
        if "media_file" not in files:
            errors.append(_missing("media_file"))
        if "folder_id" in fields:
            try:
                int(fields["folder_id"])
            except ValueError:
                errors.append(_int_error(["body", "folder_id"], fields["folder_id"]))
        if errors:
            return 422, {"detail": errors}
        filename, media = files["media_file"]
        with self._lock:
            outcome = self._outcomes.popleft() if self._outcomes else None
            task = _Task(secrets.token_hex(8), media, filename, fields, outcome)
            self._tasks[task.task_id] = task
            self.submissions += 1
            pending = sum(1 for t in self._tasks.values() if t.status == "PENDING")
            self.max_pending = max(self.max_pending, pending)
            self.last_form = fields
            self.last_filename = filename
        return 200, {"task_id": task.task_id}

    def _status(self, req: _Request, body: bytes) -> tuple[int, dict[str, Any]]:
        task_id = req.path.rsplit("/", 1)[1]
        task = self._tasks.get(task_id)
        if task is None:
            return 404, {"detail": f"Task {task_id} not found"}
        if task.status == "PENDING":
            task.polls += 1
            if task.polls > self.pending_polls:
                self._finish(task)
        answer: dict[str, Any] = {
            "status": task.status,
            "run_id": task.run_id,
            "exception_reason": task.exception_reason,
            "message": task.message,
        }
        if self.progress:
            done = task.status != "PENDING"
            answer["progress"] = 100.0 if done else 100.0 * task.polls / (self.pending_polls + 1)
        if task.status == "SUCCESS" and self.urls_in_status and task.run_id is not None:
            urls = self._issue(task.run_id)
            prefix = "_audio_url" if self.urls_in_status == "new" else "_url"
            answer.update({f"{stem}{prefix}": url for stem, url in urls.items()})
        return 200, answer

    def _finish(self, task: _Task) -> None:
        if task.outcome is not None:
            task.status, task.exception_reason, task.message = task.outcome
            return
        try:
            audio, sr = sf.read(io.BytesIO(task.media), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, TypeError):
            task.status, task.exception_reason = "ERROR", "INVALID_SOURCE_DATA"
            task.message = "The audio file could not be decoded"
            return
        half = audio * np.float32(0.5)
        stems = {}
        for stem in ("foreground", "background"):
            out = io.BytesIO()
            sf.write(out, half, sr, format="FLAC", subtype="PCM_24")
            stems[stem] = out.getvalue()
        with self._lock:
            run_id = len(self._runs) + 1001
            self._runs[run_id] = task
            self._stems[run_id] = stems
        task.status, task.run_id = "SUCCESS", run_id

    def _issue(self, run_id: int) -> dict[str, str]:
        urls = {}
        with self._lock:
            for stem in ("foreground", "background"):
                token = secrets.token_urlsafe(12)
                self._tokens[token] = (run_id, stem, False)
                urls[stem] = (
                    f"http://127.0.0.1:{self.port}/files/{token}/{stem}?X-Amz-Signature={token}"
                )
        return urls

    def _result(self, req: _Request, body: bytes) -> tuple[int, dict[str, Any]]:
        raw = req.path.rsplit("/", 1)[1]
        if not raw.isdigit():
            return 422, {"detail": [_int_error(["path", "run_id"], raw)]}
        run_id = int(raw)
        if run_id not in self._runs:
            return 404, {"detail": f"Run {run_id} not found"}
        urls = self._issue(run_id)
        return 200, {
            "foreground_audio_url": urls["foreground"],
            "background_audio_url": urls["background"],
        }

    def _results(self, req: _Request, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            run_ids = json.loads(body)["run_ids"]
            assert isinstance(run_ids, list)
        except (ValueError, KeyError, TypeError, AssertionError):
            return 422, {"detail": [_missing("run_ids")]}
        out = {}
        for run_id in run_ids:
            if run_id in self._runs:
                urls = self._issue(run_id)
                out[str(run_id)] = {
                    "foreground_audio_url": urls["foreground"],
                    "background_audio_url": urls["background"],
                }
        return 200, out

    async def _file(self, req: _Request, trickle: float = 0.0) -> None:
        parts = req.path.split("/")  # "", "files", token, stem
        entry = self._tokens.get(parts[2]) if len(parts) == 4 else None
        if entry is None or entry[2]:
            xml = (
                b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
                b"<Message>Request has expired</Message></Error>"
            )
            await self._send(req, 403, xml, content_type="application/xml")
            return
        run_id, stem, _ = entry
        data = self._stems[run_id][stem]
        await self._send(req, 200, data, content_type="audio/flac", trickle=trickle)


def _endpoint(req: _Request) -> str | None:
    path, method = req.path, req.method
    if method == "POST" and path == "/apis/audio-separation":
        return "submit"
    if method == "GET" and path.startswith("/apis/audio-separation/"):
        return "status"
    if method == "GET" and path.startswith("/apis/audio-separation-result/"):
        return "result"
    if method == "POST" and path == "/apis/audio-separation-results":
        return "results"
    if method == "GET" and path.startswith("/files/"):
        return "file"
    return None


def _missing(name: str) -> dict[str, Any]:
    return {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": None}


def _int_error(loc: list[str], value: str) -> dict[str, Any]:
    return {
        "type": "int_parsing",
        "loc": loc,
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": value,
    }


Form = tuple[dict[str, str], dict[str, tuple[str, bytes]]]


def _parse_form(headers: dict[str, str], body: bytes) -> Form:
    """Multipart fields and files, parsed by python-multipart (what FastAPI uses)."""
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if not headers.get("content-type", "").startswith("multipart/form-data"):
        return fields, files

    def on_field(f: Any) -> None:
        fields[f.field_name.decode()] = (f.value or b"").decode()

    def on_file(f: Any) -> None:
        f.file_object.seek(0)
        files[f.field_name.decode()] = ((f.file_name or b"").decode(), f.file_object.read())
        f.file_object.close()

    python_multipart.parse_form(
        {"Content-Type": headers["content-type"].encode(), "Content-Length": b"%d" % len(body)},
        io.BytesIO(body),
        on_field,
        on_file,
    )
    return fields, files


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a crashed proxy or a dropped connection looks."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
