"""The steps of a submission: receive the upload, check its fields, queue the job.

Each step returns what the next one needs or raises the HTTP error the client
should see (422 in FastAPI's shape, 409, 429); the route strings them together.
An over-size upload is the one verdict given here rather than in the worker: it
becomes a task that is ``ERROR``/``SOURCE_TOO_LARGE`` from the start.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from .._vocabulary import SOURCE_TOO_LARGE
from ._keys import Caller
from ._pool import QueueFull
from ._schema import SubmitFields
from ._state import EngineState
from ._tasks import Task
from ._upload import FILE_FIELDS, Upload, UploadError, read_upload

__all__ = [
    "check_fields",
    "enqueue",
    "key_full",
    "queue_full",
    "receive",
    "run_id_taken",
    "too_large",
]

log = logging.getLogger("camb_notebook.engine")

_MULTIPART_SLACK = 1024 * 1024  # room for headers and text fields around the file


async def receive(request: Request, max_bytes: int, staging: Path) -> Upload:
    """Stream the multipart body into *staging*; an over-size one comes back ``too_large``.

    A ``Content-Length`` already beyond the limit is refused without reading the body.
    """
    try:
        declared = int(request.headers.get("content-length", "0") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes + _MULTIPART_SLACK:
        return Upload(size=declared, too_large=True)
    try:
        return await read_upload(
            request.headers.get("content-type"), request.stream(), staging, max_bytes
        )
    except UploadError as exc:
        raise _invalid(exc.loc, str(exc), None) from None
    except ClientDisconnect:
        raise HTTPException(400, "client disconnected") from None


async def check_fields(state: EngineState, upload: Upload) -> SubmitFields:
    """The form's text fields, validated; 422 for a bad one, a missing file or an unknown method."""
    data = {k: v for k, v in upload.fields.items() if k in SubmitFields.model_fields}
    try:
        fields = SubmitFields.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for error in errors:
            error["loc"] = ("body", *error["loc"])
        raise RequestValidationError(errors) from None
    if upload.path is None:
        raise _invalid(
            ("body", FILE_FIELDS[0]),
            f"Field required (send the audio as {' or '.join(FILE_FIELDS)})",
            None,
            "missing",
        )
    names = await run_in_threadpool(state.method_names)
    if fields.method is not None and fields.method not in names:
        raise _invalid(
            ("body", "method"),
            f"unknown method {fields.method!r}; available: {', '.join(names)}",
            fields.method,
        )
    return fields


def enqueue(
    state: EngineState, caller: Caller, run_id: int | None, fields: SubmitFields, upload: Upload
) -> dict[str, str]:
    """Create the task, move the upload into its storage and hand the job on.

    Blocking (the upload may be copied to an object store): run it off the event loop.
    """
    assert upload.path is not None
    if state.key_is_full(caller):  # checked again: uploads of one key may arrive together
        raise key_full(state, caller)
    config = state.config
    task = _new_task(
        state,
        caller,
        run_id,
        output_format=fields.format or config.default_format,
        method=fields.method or config.default_method,
        project_name=fields.project_name,
        project_description=fields.project_description,
        folder_id=fields.folder_id,
    )
    try:
        stored = state.storage.store_upload(upload.path, task.task_id)
    except Exception:
        state.tasks.discard(task.task_id)
        raise
    state.tasks.set_input(task.task_id, stored)
    try:
        state.runner.submit(state.job_spec(task))
    except QueueFull as exc:
        state.tasks.discard(task.task_id)
        state.metrics.refusals.labels(caller.name, "queue").inc()
        raise queue_full(exc.retry_after) from None
    state.metrics.submissions.labels(caller.name).inc()
    log.info(
        "task %s accepted for %s (%s, %.1f MiB, method %s)",
        task.task_id,
        caller.name,
        upload.filename or "unnamed",
        upload.size / 2**20,
        task.method or "default",
    )
    return {"task_id": task.task_id}


def too_large(state: EngineState, caller: Caller, run_id: int | None, size: int) -> JSONResponse:
    """Answer an over-size upload with a task that already failed ``SOURCE_TOO_LARGE``."""
    limit = state.config.max_bytes
    task = _new_task(state, caller, run_id, output_format=state.config.default_format)
    state.tasks.fail(
        task.task_id,
        SOURCE_TOO_LARGE,
        f"the upload passed {size / 2**20:.1f} MiB, larger than this engine's limit of "
        f"{limit / 2**20:.1f} MiB; compress it (e.g. to FLAC or MP3) or split it",
    )
    # The rest of the body is not read: close the connection rather than drain it.
    return JSONResponse({"task_id": task.task_id}, headers={"Connection": "close"})


def queue_full(retry_after: float) -> HTTPException:
    """The 429 for a full queue, with ``Retry-After`` in whole seconds (at least 1)."""
    seconds = max(round(retry_after), 1)
    return HTTPException(
        429,
        f"the engine's job queue is full; retry in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


def key_full(state: EngineState, caller: Caller) -> HTTPException:
    """The 429 for a key that has ``max_jobs_per_key`` jobs waiting or running."""
    state.metrics.refusals.labels(caller.name, "key_limit").inc()
    seconds = max(round(state.runner.retry_after()), 1)
    limit = state.config.max_jobs_per_key
    log.info("submission of %s refused: %s jobs waiting or running", caller.name, limit)
    return HTTPException(
        429,
        f"your key ({caller.name}) already has {limit} jobs waiting or running, this engine's "
        f"limit per key; retry in {seconds} s, once one of them has finished",
        headers={"Retry-After": str(seconds)},
    )


def run_id_taken(run_id: int) -> HTTPException:
    """The 409 for a ``run_id`` another task holds."""
    return HTTPException(409, f"run_id {run_id} is already in use; omit it or pick another")


def _new_task(state: EngineState, caller: Caller, run_id: int | None, **meta: Any) -> Task:
    try:
        return state.tasks.create(owner=caller.name, run_id=run_id, **meta)
    except KeyError:  # the asked-for run_id was taken while the upload streamed in
        assert run_id is not None
        raise run_id_taken(run_id) from None


def _invalid(
    loc: tuple[str, ...], msg: str, value: Any, kind: str = "value_error"
) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": loc, "msg": msg, "input": value}])
