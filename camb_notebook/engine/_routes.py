"""CAMB.AI's audio-separation contract under ``/apis``, result stems under ``/files``.

Validation happens where the cloud does it, in the task: a submission that is a
well-formed request gets a ``task_id`` and the verdict on the audio (not audio,
content vs extension, too long, corrupt) arrives as status ``ERROR`` with the
cloud's ``exception_reason``. Only an over-size upload is judged while it streams
in (it is cut off, and its task is ``ERROR``/``SOURCE_TOO_LARGE`` right away).
Malformed requests get FastAPI's 422, a wrong key 401, a full queue 429.

Each key sees only its own tasks and runs: another key's ids answer 404, exactly
as ids that never existed. The admin key sees all. Result URLs are signed and
expire; while valid they need no key (a capability, like the cloud's pre-signed
URLs); an expired or altered one answers 403.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import shutil
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Security
from fastapi.responses import FileResponse, Response
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from .._version import __version__
from .._vocabulary import progress_phrase
from ._keys import Caller
from ._lossless import FORMATS, MEDIA_TYPES, StemFormat, converted
from ._metrics import CONTENT_TYPE
from ._schema import (
    ERRORS,
    FILE_RESPONSES,
    SUBMIT_BODY,
    SUBMIT_ERRORS,
    EngineInfo,
    ResultAnswer,
    ResultsRequest,
    StatusAnswer,
    SubmitAnswer,
    TaskList,
)
from ._state import EngineState
from ._submit import check_fields, enqueue, key_full, queue_full, receive, run_id_taken, too_large
from ._tasks import PENDING, SUCCESS, Task

__all__ = ["api", "files", "metrics"]

log = logging.getLogger("camb_notebook.engine")

_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_FILE_NAME = re.compile(rf"^(foreground|background)\.({'|'.join(FORMATS)})$")
_STEMS = ("foreground", "background")
#: The seed document's names for the two result URLs, beside the cloud's ``*_audio_url``.
_SEED_NAMES = {"foreground": "foreground_url", "background": "background_url"}


def _engine(request: Request) -> EngineState:
    return request.app.state.engine


State = Annotated[EngineState, Depends(_engine)]
_KEY_HEADER = APIKeyHeader(name="x-api-key", auto_error=False)


def _caller(
    request: Request, state: State, key: Annotated[str | None, Security(_KEY_HEADER)]
) -> Caller:
    caller = state.keys.caller(key)
    if caller is None:
        raise HTTPException(
            status_code=401,
            detail="API key missing or wrong: send your key for this engine in the x-api-key "
            "header",
        )
    request.state.caller = caller  # named in the access log
    return caller


CallerDep = Annotated[Caller, Depends(_caller)]

#: The contract's routes, behind a key.
api = APIRouter(prefix="/apis", dependencies=[Depends(_caller)], responses=ERRORS)
#: The result files: their signed, expiring URLs are the key, as with the cloud's.
files = APIRouter()
#: Prometheus metrics.
metrics = APIRouter()


@api.post(
    "/audio-separation",
    response_model=SubmitAnswer,
    openapi_extra=SUBMIT_BODY,
    responses=SUBMIT_ERRORS,
)
async def submit(
    request: Request,
    state: State,
    caller: CallerDep,
    run_id: Annotated[int | None, Query(ge=0)] = None,
) -> Any:
    """Upload a clip (``media_file`` or ``audio_file``); answers a ``task_id``."""
    # Refused before reading the upload: the key's own limit, then the shared queue.
    if state.key_is_full(caller):
        raise key_full(state, caller)
    if state.queue_is_full():
        state.metrics.refusals.labels(caller.name, "queue").inc()
        raise queue_full(state.runner.retry_after())
    if run_id is not None and state.tasks.run_id_taken(caller.name, run_id):
        raise run_id_taken(run_id)
    staging = state.root / f"upload-{secrets.token_hex(8)}"
    try:
        started = time.perf_counter()
        upload = await receive(request, state.config.max_bytes, staging)
        if upload.too_large:
            return too_large(state, caller, run_id, upload.size)
        fields = await check_fields(state, upload)
        answer = await run_in_threadpool(enqueue, state, caller, run_id, fields, upload)
        state.metrics.upload_seconds.observe(time.perf_counter() - started)
        return answer
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@api.get("/audio-separation/{task_id}", response_model=StatusAnswer)
async def status(task_id: str, request: Request, state: State, caller: CallerDep) -> Any:
    """The task's status; ``progress``, ``queue_position``, ``method`` and URLs are extras."""
    snap = state.tasks.snapshot(task_id, caller)
    if snap is None:
        raise HTTPException(404, f"task {task_id!r} not found (unknown, or expired)")
    answer, task = snap
    place = state.queue_place(task_id) if answer["status"] == PENDING and not task.started else None
    if place is not None:
        position, length = place
        answer["queue_position"], answer["queue_length"] = position, length
        answer["message"] = progress_phrase(PENDING, queue_position=position, queue_length=length)
    if answer["status"] == SUCCESS:
        urls = _urls(request, state, task)
        answer.update(urls)
        for stem, seed_name in _SEED_NAMES.items():
            answer[seed_name] = urls[f"{stem}_audio_url"]
    return answer


@api.delete("/audio-separation/{task_id}", response_model=StatusAnswer)
async def cancel(task_id: str, request: Request, state: State, caller: CallerDep) -> Any:
    """Engine extra: stop a task; the answer is its status afterwards (``ERROR`` with
    ``exception_reason`` ``CANCELLED``, or the status it had already reached).

    Only the task's owner (or the admin key) may cancel it: another key's id answers 404.
    """
    if not await run_in_threadpool(state.cancel, task_id, caller):
        raise HTTPException(404, f"task {task_id!r} not found (unknown, or expired)")
    return await status(task_id, request, state, caller)


@api.get("/audio-separation-result/{run_id}", response_model=ResultAnswer)
async def result(run_id: int, request: Request, state: State, caller: CallerDep) -> Any:
    """The two stems' URLs of a finished run."""
    task = _finished(state, run_id, caller)
    if task is None:
        raise HTTPException(404, f"run {run_id} has no result (unknown, unfinished or expired)")
    return _urls(request, state, task)


@api.post("/audio-separation-results", response_model=dict[str, ResultAnswer])
async def results(
    body: Annotated[ResultsRequest, Body()], request: Request, state: State, caller: CallerDep
) -> Any:
    """URLs for several runs at once; runs without a result are left out."""
    finished = {run_id: _finished(state, run_id, caller) for run_id in body.run_ids}
    return {
        str(run_id): _urls(request, state, task)
        for run_id, task in finished.items()
        if task is not None
    }


@api.get("/engine", response_model=EngineInfo)
async def info(state: State, caller: CallerDep) -> Any:
    """Engine extra: methods, limits and load of this engine (per key for the admin)."""
    config = state.config
    return {
        "engine": "camb_notebook",
        "version": __version__,
        "methods": await run_in_threadpool(state.method_names),
        "default_method": config.default_method,
        "workers": state.runner.capacity(),
        "queued": state.runner.queued(),
        "running": state.runner.running(),
        "max_queue": config.max_queue,
        "max_duration": config.max_duration,
        "max_bytes": config.max_bytes,
        "result_ttl": config.result_ttl,
        "max_jobs_per_key": config.max_jobs_per_key,
        "key_name": caller.name,
        "keys": state.tasks.load_by_owner() if caller.admin else None,
    }


@api.get("/engine/tasks", response_model=TaskList)
async def task_list(state: State, caller: CallerDep) -> Any:
    """Engine extra: the caller's tasks, newest first (every task for the admin)."""
    return {"tasks": state.tasks.listing(caller)}


async def result_file(
    file_id: str,
    name: str,
    state: State,
    format: Annotated[StemFormat | None, Query()] = None,
    expires: Annotated[str | None, Query()] = None,
    signature: Annotated[str | None, Query()] = None,
) -> Any:
    """A result stem, lossless (FLAC 24-bit, or WAV 32-bit float); supports ``Range``.

    The URL must carry a valid ``expires`` and ``signature`` (as the status call gives
    it); it needs no key.
    """
    match = _FILE_NAME.match(name)
    task = state.tasks.by_file(file_id) if _FILE_ID.match(file_id) else None
    if match is None or task is None or task.result is None:
        raise HTTPException(404, "no such file (unknown, or expired)")
    stem, ext = match.groups()
    problem = state.signer.check(file_id, stem, expires, signature)
    if problem is not None:
        raise HTTPException(403, problem)
    fmt = format or ext
    stored = await run_in_threadpool(
        state.storage.local_stem, task.task_id, task.result.files[stem]
    )
    path = await run_in_threadpool(converted, stored, fmt)
    ends = min((task.finished or time.time()) + state.config.result_ttl, float(expires or 0))
    remaining = max(int(ends - time.time()), 0)
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        filename=f"{stem}.{fmt}",
        content_disposition_type="inline",
        headers={"Cache-Control": f"private, max-age={remaining}"},
    )


# GET and HEAD as two routes: one route with both would give both the same operation id.
for _method in ("GET", "HEAD"):
    files.add_api_route(
        "/files/{file_id}/{name}",
        result_file,
        methods=[_method],
        name="files" if _method == "GET" else "files_head",
        operation_id=f"{_method.lower()}_result_file",
        response_class=FileResponse,
        responses=FILE_RESPONSES,
    )


@metrics.get("/metrics", include_in_schema=False)
async def prometheus(
    request: Request, state: State, key: Annotated[str | None, Security(_KEY_HEADER)]
) -> Response:
    """Prometheus metrics, for the admin key (``x-api-key`` or ``Authorization: Bearer``).

    Without an admin key configured any valid key may read them; on an engine without
    keys, anyone on loopback.
    """
    bearer = request.headers.get("authorization", "")
    if not key and bearer.lower().startswith("bearer "):
        key = bearer[7:].strip()
    caller = state.keys.caller(key)
    if caller is None or (state.config.admin_key and not caller.admin):
        raise HTTPException(
            401 if caller is None else 403,
            "the metrics name every key's owner: read them with the admin key "
            "(x-api-key or Authorization: Bearer)",
        )
    body = await run_in_threadpool(state.metrics.render)
    return Response(body, media_type=CONTENT_TYPE)


def _finished(state: EngineState, run_id: int, caller: Caller) -> Task | None:
    task = state.tasks.by_run(run_id, caller)
    return task if task is not None and task.status == SUCCESS else None


def _urls(request: Request, state: EngineState, task: Task) -> dict[str, str]:
    """Signed result URLs, valid for ``url_ttl`` (never beyond the task's expiry).

    The expiry is rounded up to a grid (a minute for long lifetimes), so calls close
    together hand out the same link and caches keyed by URL keep working.
    """
    assert task.result is not None and task.file_id is not None
    config = state.config
    origin = (config.public_url or str(request.base_url)).rstrip("/")
    grid = min(60.0, max(1.0, config.url_ttl / 60))
    wanted = math.ceil((time.time() + config.url_ttl) / grid) * grid
    expires = math.ceil(min(wanted, (task.finished or time.time()) + config.result_ttl))
    urls = {}
    for stem in _STEMS:
        query = state.signer.sign(task.file_id, stem, expires)
        urls[f"{stem}_audio_url"] = (
            f"{origin}/files/{task.file_id}/{task.result.files[stem]}"
            f"?expires={query['expires']}&signature={query['signature']}"
        )
    return urls
