"""CAMB.AI's audio-separation contract under ``/apis``, result stems under ``/files``.

Validation happens where the cloud does it, in the task: a submission that is a
well-formed request gets a ``task_id`` and the verdict on the audio (not audio,
content vs extension, too long, corrupt) arrives as status ``ERROR`` with the
cloud's ``exception_reason``. Only an over-size upload is judged while it streams
in (it is cut off, and its task is ``ERROR``/``SOURCE_TOO_LARGE`` right away).
Malformed requests get FastAPI's 422, a wrong key 401, a full queue 429.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Security
from fastapi.responses import FileResponse
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from .._version import __version__
from .._vocabulary import progress_phrase
from ._config import EngineConfig
from ._lossless import FORMATS, MEDIA_TYPES, StemFormat, converted
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
)
from ._state import EngineState
from ._submit import check_fields, enqueue, queue_full, receive, run_id_taken, too_large
from ._tasks import PENDING, SUCCESS, Task

__all__ = ["api", "files"]

_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_FILE_NAME = re.compile(rf"^(foreground|background)\.({'|'.join(FORMATS)})$")
_STEMS = ("foreground", "background")


def _engine(request: Request) -> EngineState:
    return request.app.state.engine


State = Annotated[EngineState, Depends(_engine)]
_KEY_HEADER = APIKeyHeader(name="x-api-key", auto_error=False)


def _check_key(state: State, key: Annotated[str | None, Security(_KEY_HEADER)]) -> None:
    expected = state.config.api_key
    if expected and not (key and secrets.compare_digest(key.encode(), expected.encode())):
        raise HTTPException(
            status_code=401,
            detail="API key missing or wrong: send this engine's key in the x-api-key header",
        )


#: The contract's routes, behind the API key.
api = APIRouter(prefix="/apis", dependencies=[Depends(_check_key)], responses=ERRORS)
#: The result files: their unguessable URLs are the key, as with the cloud's pre-signed ones.
files = APIRouter()


@api.post(
    "/audio-separation",
    response_model=SubmitAnswer,
    openapi_extra=SUBMIT_BODY,
    responses=SUBMIT_ERRORS,
)
async def submit(
    request: Request, state: State, run_id: Annotated[int | None, Query(ge=0)] = None
) -> Any:
    """Upload a clip (``media_file`` or ``audio_file``); answers a ``task_id``."""
    if state.queue_is_full():
        raise queue_full(state.runner.retry_after())  # refused before reading the upload
    if run_id is not None and state.tasks.run_id_taken(run_id):
        raise run_id_taken(run_id)
    staging = state.root / f"upload-{secrets.token_hex(8)}"
    try:
        upload = await receive(request, state.config.max_bytes, staging)
        if upload.too_large:
            return too_large(state, run_id, upload.size)
        fields = await check_fields(state, upload)
        return enqueue(state, run_id, fields, staging, upload)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@api.get("/audio-separation/{task_id}", response_model=StatusAnswer)
async def status(task_id: str, request: Request, state: State) -> Any:
    """The task's status; ``progress``, ``queue_position``, ``method`` and URLs are extras."""
    snap = state.tasks.snapshot(task_id)
    if snap is None:
        raise HTTPException(404, f"task {task_id!r} not found (unknown, or expired)")
    answer, task = snap
    place = state.queue_place(task_id) if answer["status"] == PENDING and not task.started else None
    if place is not None:
        position, length = place
        answer["queue_position"], answer["queue_length"] = position, length
        answer["message"] = progress_phrase(PENDING, queue_position=position, queue_length=length)
    if answer["status"] == SUCCESS:
        answer.update(_urls(request, state.config, task))
    return answer


@api.get("/audio-separation-result/{run_id}", response_model=ResultAnswer)
async def result(run_id: int, request: Request, state: State) -> Any:
    """The two stems' URLs of a finished run."""
    task = _finished(state, run_id)
    if task is None:
        raise HTTPException(404, f"run {run_id} has no result (unknown, unfinished or expired)")
    return _urls(request, state.config, task)


@api.post("/audio-separation-results", response_model=dict[str, ResultAnswer])
async def results(body: Annotated[ResultsRequest, Body()], request: Request, state: State) -> Any:
    """URLs for several runs at once; runs without a result are left out."""
    finished = {run_id: _finished(state, run_id) for run_id in body.run_ids}
    return {
        str(run_id): _urls(request, state.config, task)
        for run_id, task in finished.items()
        if task is not None
    }


@api.get("/engine", response_model=EngineInfo)
async def info(state: State) -> Any:
    """Engine extra: methods, limits and load of this engine."""
    config = state.config
    return {
        "engine": "camb_notebook",
        "version": __version__,
        "methods": await run_in_threadpool(state.method_names),
        "default_method": config.default_method,
        "workers": config.workers,
        "queued": state.runner.queued(),
        "running": state.runner.running(),
        "max_queue": config.max_queue,
        "max_duration": config.max_duration,
        "max_bytes": config.max_bytes,
        "result_ttl": config.result_ttl,
    }


async def result_file(
    file_id: str,
    name: str,
    state: State,
    format: Annotated[StemFormat | None, Query()] = None,
) -> Any:
    """A result stem, lossless (FLAC 24-bit, or WAV 32-bit float); supports ``Range``."""
    match = _FILE_NAME.match(name)
    task = state.tasks.by_file(file_id) if _FILE_ID.match(file_id) else None
    if match is None or task is None or task.result is None:
        raise HTTPException(404, "no such file (unknown, or expired)")
    stem, ext = match.groups()
    fmt = format or ext
    path = await run_in_threadpool(converted, task.out_dir / task.result.files[stem], fmt)
    ttl = state.config.result_ttl
    remaining = max(int((task.finished or time.time()) + ttl - time.time()), 0)
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


def _finished(state: EngineState, run_id: int) -> Task | None:
    task = state.tasks.by_run(run_id)
    return task if task is not None and task.status == SUCCESS else None


def _urls(request: Request, config: EngineConfig, task: Task) -> dict[str, str]:
    assert task.result is not None and task.file_id is not None
    origin = (config.public_url or str(request.base_url)).rstrip("/")
    return {
        f"{stem}_audio_url": f"{origin}/files/{task.file_id}/{task.result.files[stem]}"
        for stem in _STEMS
    }
