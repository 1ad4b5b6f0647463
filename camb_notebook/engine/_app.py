"""The ASGI app: CAMB.AI's audio-separation contract under ``/apis``, stems under ``/files``.

Validation happens where the cloud does it, in the task: a submission that is a
well-formed request gets a ``task_id`` and the verdict on the audio (not audio,
content vs extension, too long, corrupt) arrives as status ``ERROR`` with the
cloud's ``exception_reason``. Only an over-size upload is judged while it streams
in (it is cut off, and its task is ``ERROR``/``SOURCE_TOO_LARGE`` right away).
Malformed requests get FastAPI's 422, a wrong key 401, a full queue 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from .._exceptions import register_secret
from .._vocabulary import progress_phrase
from ._config import EngineConfig
from ._jobs import SOURCE_TOO_LARGE, JobSpec
from ._pool import JobRunner, ProcessPool, QueueFull
from ._tasks import Task, TaskRegistry
from ._upload import FILE_FIELDS, UploadError, read_upload

__all__ = ["EngineState", "cancel_task", "create_app"]

_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_FILE_NAME = re.compile(r"^(foreground|background)\.(flac|wav)$")
_METHOD_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_MEDIA_TYPES = {"flac": "audio/flac", "wav": "audio/wav"}
_MULTIPART_SLACK = 1024 * 1024  # room for headers and text fields around the file


# -- answer models (they are also the OpenAPI document) ---------------------------------


class SubmitAnswer(BaseModel):
    task_id: str


class StatusAnswer(BaseModel):
    """The cloud's four fields, then the engine's optional extras."""

    status: str = Field(description="PENDING, SUCCESS, ERROR or TIMEOUT")
    run_id: int | None = None
    exception_reason: str | None = None
    message: str | None = None
    progress: float | None = Field(None, ge=0, le=100, description="engine extra: percent done")
    method: str | None = Field(None, description="engine extra: separation method used")
    residual_db: float | None = Field(
        None, description="engine extra: RMS of original − (foreground + background), dBFS"
    )
    queue_position: int | None = Field(
        None, ge=1, description="engine extra: place in the queue (1 = next); null if not queued"
    )
    queue_length: int | None = Field(
        None, ge=0, description="engine extra: jobs waiting; null when this task is not queued"
    )
    foreground_audio_url: str | None = None
    background_audio_url: str | None = None


class ResultAnswer(BaseModel):
    foreground_audio_url: str
    background_audio_url: str


class ResultsRequest(BaseModel):
    run_ids: list[StrictInt] = Field(max_length=1000)


class EngineInfo(BaseModel):
    engine: str
    version: str
    methods: list[str]
    default_method: str | None
    workers: int
    queued: int
    running: int
    max_queue: int
    max_duration: float
    max_bytes: int
    result_ttl: float


class _SubmitFields(BaseModel):
    model_config = ConfigDict(extra="ignore")

    project_name: str | None = None
    project_description: str | None = None
    folder_id: int | None = None
    method: str | None = Field(None, pattern=_METHOD_NAME.pattern)
    format: Literal["flac", "wav"] | None = None


_SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "media_file": {"type": "string", "format": "binary"},
                        "audio_file": {
                            "type": "string",
                            "format": "binary",
                            "description": "older name of media_file",
                        },
                        "project_name": {"type": "string"},
                        "project_description": {"type": "string"},
                        "folder_id": {"type": "integer"},
                        "method": {"type": "string", "description": "engine extra"},
                        "format": {"type": "string", "enum": ["flac", "wav"]},
                    },
                    "anyOf": [{"required": ["media_file"]}, {"required": ["audio_file"]}],
                }
            }
        },
    }
}

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body could not be parsed"},
    401: {"description": "API key missing or wrong"},
    404: {"description": "Not found"},
    422: {"description": "Validation error"},
}


# -- the engine's state -----------------------------------------------------------------


class EngineState:
    """Everything one app instance owns: config, tasks, the job runner, its folder."""

    def __init__(self, config: EngineConfig, runner: JobRunner | None = None) -> None:
        self.config = config
        register_secret(config.api_key)
        self.root = config.storage_root() / f"instance-{os.getpid()}-{secrets.token_hex(6)}"
        self.root.mkdir(parents=True, exist_ok=True)
        self.tasks = TaskRegistry(self.root, config.result_ttl)
        self.runner: JobRunner = runner or ProcessPool(
            self.tasks.on_event,
            workers=config.workers,
            max_queue=config.max_queue,
            start_method=config.mp_start_method,
            job_timeout=config.job_timeout,
            nice=config.worker_nice,
        )
        self._methods: list[str] | None = None
        self._convert_lock = threading.Lock()

    def method_names(self) -> list[str]:
        """Names a submission may ask for: every built-in method (spleeter without its
        weights falls back to repet in the worker) and the configured extra ones.

        The first call imports the methods package (~0.4 s, scipy): call it off the
        event loop.
        """
        if self._methods is None:
            from ..methods import METHOD_NAMES

            self._methods = sorted(set(METHOD_NAMES) | set(self.config.extra_methods))
        return self._methods

    def sweep_stale_instances(self) -> None:
        """Delete folders left behind by engines that died (killed kernels).

        A folder is stale when its process is gone (or, should the pid have been reused,
        when it has not changed for longer than the result TTL).
        """
        cutoff = time.time() - self.config.result_ttl
        for folder in self.root.parent.glob("instance-*"):
            if folder == self.root:
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                pid = int(folder.name.split("-")[1])
                if not _pid_alive(pid) or folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        self.runner.shutdown()
        shutil.rmtree(self.root, ignore_errors=True)

    def stem_path(self, task: Task, stem: str, fmt: str) -> Path:
        """The stem's file in *fmt*, converting (losslessly, once) from the stored one."""
        assert task.result is not None
        stored = task.out_dir / task.result.files[stem]
        wanted = task.out_dir / f"{stem}.{fmt}"
        if stored == wanted or wanted.exists():
            return wanted
        with self._convert_lock:
            if not wanted.exists():
                import soundfile as sf

                data, sr = sf.read(stored, dtype="float32", always_2d=True)
                tmp = wanted.with_suffix(".part")
                if fmt == "wav":
                    sf.write(tmp, data, sr, format="WAV", subtype="FLOAT")
                else:
                    sf.write(tmp, data.clip(-1, 1), sr, format="FLAC", subtype="PCM_24")
                tmp.replace(wanted)
        return wanted


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


# -- the app ------------------------------------------------------------------------------


def create_app(config: EngineConfig | None = None, *, runner: JobRunner | None = None) -> FastAPI:
    """Build the engine's ASGI app.

    Parameters
    ----------
    config : EngineConfig, optional
    runner : JobRunner, optional
        Who runs the jobs; default a :class:`ProcessPool` sized by *config*.

    Returns
    -------
    fastapi.FastAPI
        Serve it with any ASGI server; its lifespan starts and stops the workers.

    Examples
    --------
    >>> app = create_app(EngineConfig(api_key="k"))
    >>> sorted(app.openapi()["paths"])[:2]
    ['/apis/audio-separation', '/apis/audio-separation-result/{run_id}']
    """
    from .. import __version__

    config = config or EngineConfig()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = EngineState(config, runner)
        app.state.engine = state
        state.sweep_stale_instances()
        if config.prewarm:
            if isinstance(state.runner, ProcessPool):
                state.runner.start()
            threading.Thread(target=state.method_names, daemon=True).start()
        sweeper = asyncio.create_task(_sweep(state))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await run_in_threadpool(state.close)

    app = FastAPI(
        title="camb_notebook local engine",
        version=__version__,
        description=__doc__,
        openapi_url="/apis/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )

    api = APIRouter(prefix="/apis", dependencies=[Depends(_check_key)], responses=_ERRORS)

    @api.post(
        "/audio-separation",
        response_model=SubmitAnswer,
        openapi_extra=_SUBMIT_BODY,
        responses={
            409: {"description": "run_id already in use"},
            429: {"description": "Queue full; retry after Retry-After seconds"},
        },
    )
    async def submit(
        request: Request,
        state: State,
        run_id: Annotated[int | None, Query(ge=0)] = None,
    ) -> Any:
        """Upload a clip (``media_file`` or ``audio_file``); answers a ``task_id``."""
        idle = max(config.workers - state.runner.running(), 0)
        if state.runner.queued() >= config.max_queue + idle:
            return _queue_full(state)  # refuse before reading the upload
        if run_id is not None and state.tasks.run_id_taken(run_id):
            raise HTTPException(409, f"run_id {run_id} is already in use; omit it or pick another")
        staging = state.root / f"upload-{secrets.token_hex(8)}"
        try:
            declared = int(request.headers.get("content-length", "0") or 0)
        except ValueError:
            declared = 0
        try:
            if declared > config.max_bytes + _MULTIPART_SLACK:
                return _too_large(state, run_id, declared, config.max_bytes)
            try:
                upload = await read_upload(
                    request.headers.get("content-type"),
                    request.stream(),
                    staging,
                    config.max_bytes,
                )
            except UploadError as exc:
                _invalid(exc.loc, str(exc), None, "value_error")
            except ClientDisconnect:
                return JSONResponse({"detail": "client disconnected"}, status_code=400)
            if upload.too_large:
                return _too_large(state, run_id, upload.size, config.max_bytes)
            fields = _validate_fields(upload.fields)
            if upload.path is None:
                _missing_file()
            names = await run_in_threadpool(state.method_names)
            if fields.method is not None and fields.method not in names:
                _invalid(
                    ("body", "method"),
                    f"unknown method {fields.method!r}; available: {', '.join(names)}",
                    fields.method,
                )
            method = fields.method or config.default_method
            try:
                task = state.tasks.create(
                    output_format=fields.format or config.default_format,
                    run_id=run_id,
                    method=method,
                    project_name=fields.project_name,
                    project_description=fields.project_description,
                    folder_id=fields.folder_id,
                )
            except KeyError:  # taken while this upload streamed in
                raise HTTPException(409, f"run_id {run_id} is already in use") from None
            in_dir = task.work_dir / "in"
            staging.rename(in_dir)
            assert upload.path is not None
            spec = JobSpec(
                job_id=task.task_id,
                input_path=str(in_dir / upload.path.name),
                out_dir=str(task.out_dir),
                method=method,
                output_format=task.output_format,
                max_duration=config.max_duration,
                min_duration=config.min_duration,
                max_bytes=config.max_bytes,
                extra_methods=dict(config.extra_methods),
            )
            try:
                state.runner.submit(spec)
            except QueueFull as exc:
                state.tasks.discard(task.task_id)
                return _queue_full(state, exc.retry_after)
            return {"task_id": task.task_id}
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @api.get("/audio-separation/{task_id}", response_model=StatusAnswer)
    async def status(task_id: str, request: Request, state: State) -> Any:
        """The task's status; ``progress``, ``method`` and URLs are engine extras."""
        snap = state.tasks.snapshot(task_id)
        if snap is None:
            raise HTTPException(404, f"task {task_id!r} not found (unknown, or expired)")
        answer, task = snap
        if answer["status"] == "PENDING" and not task.started:
            place = state.runner.position(task_id)
            if place is not None:
                waiting = state.runner.queued()
                answer["queue_position"], answer["queue_length"] = place, waiting
                answer["message"] = progress_phrase(
                    "PENDING", queue_position=place, queue_length=waiting
                )
        if answer["status"] == "SUCCESS":
            answer.update(_urls(request, config, task))
        return answer

    @api.delete(
        "/audio-separation/{task_id}",
        response_model=StatusAnswer,
        responses={404: {"description": "Unknown or expired task"}},
    )
    async def cancel(task_id: str, state: State) -> Any:
        """Engine extra: stop a task; the answer is its status afterwards (``ERROR`` with
        ``exception_reason`` ``CANCELLED``, or the status it had already reached)."""
        return await run_in_threadpool(cancel_task, state, task_id)

    @api.get("/audio-separation-result/{run_id}", response_model=ResultAnswer)
    async def result(run_id: int, request: Request, state: State) -> Any:
        """The two stems' URLs of a finished run."""
        task = state.tasks.by_run(run_id)
        if task is None or task.status != "SUCCESS":
            raise HTTPException(404, f"run {run_id} has no result (unknown, unfinished or expired)")
        return _urls(request, config, task)

    @api.post("/audio-separation-results", response_model=dict[str, ResultAnswer])
    async def results(
        body: Annotated[ResultsRequest, Body()], request: Request, state: State
    ) -> Any:
        """URLs for several runs at once; runs without a result are left out."""
        out: dict[str, Any] = {}
        for run_id in body.run_ids:
            task = state.tasks.by_run(run_id)
            if task is not None and task.status == "SUCCESS":
                out[str(run_id)] = _urls(request, config, task)
        return out

    @api.get("/engine", response_model=EngineInfo)
    async def info(state: State) -> Any:
        """Engine extra: methods, limits and load of this engine."""
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

    app.include_router(api)

    def openapi() -> dict[str, Any]:
        # The method names are only known once the engine runs (they come from the
        # methods package, imported lazily): fill them in on first request.
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = FastAPI.openapi(app)
        app.openapi_schema = None  # FastAPI.openapi caches; keep it only when complete
        state: EngineState | None = getattr(app.state, "engine", None)
        if state is not None:
            form = schema["paths"]["/apis/audio-separation"]["post"]["requestBody"]
            props = form["content"]["multipart/form-data"]["schema"]["properties"]
            props["method"]["enum"] = state.method_names()
            app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

    async def files(
        file_id: str,
        name: str,
        state: State,
        format: Annotated[Literal["flac", "wav"] | None, Query()] = None,
    ) -> Any:
        """A result stem, lossless (FLAC 24-bit, or WAV 32-bit float); supports ``Range``."""
        match = _FILE_NAME.match(name)
        task = state.tasks.by_file(file_id) if _FILE_ID.match(file_id) else None
        if match is None or task is None or task.result is None:
            raise HTTPException(404, "no such file (unknown, or expired)")
        stem, ext = match.groups()
        fmt = format or ext
        path = await run_in_threadpool(state.stem_path, task, stem, fmt)
        remaining = max(int((task.finished or time.time()) + config.result_ttl - time.time()), 0)
        return FileResponse(
            path,
            media_type=_MEDIA_TYPES[fmt],
            filename=f"{stem}.{fmt}",
            content_disposition_type="inline",
            headers={"Cache-Control": f"private, max-age={remaining}"},
        )

    responses: dict[int | str, dict[str, Any]] = {
        200: {"content": {"audio/flac": {}, "audio/wav": {}}},
        206: {"description": "Partial content (Range)"},
        404: {"description": "Unknown or expired file"},
        416: {"description": "Range not satisfiable"},
    }
    for method in ("GET", "HEAD"):
        app.add_api_route(
            "/files/{file_id}/{name}",
            files,
            methods=[method],
            name="files" if method == "GET" else "files_head",
            operation_id=f"{method.lower()}_result_file",
            response_class=FileResponse,
            responses=responses,
        )
    return app


# -- helpers ---------------------------------------------------------------------------


def cancel_task(state: EngineState, task_id: str) -> dict[str, Any]:
    """Cancel *task_id*: mark it first (a late event from its job then changes nothing), then
    drop it from the queue or stop its worker. Returns the status answer afterwards.
    """
    if state.tasks.cancel(task_id):
        state.runner.cancel(task_id)
    snap = state.tasks.snapshot(task_id)
    if snap is None:
        raise HTTPException(404, f"task {task_id!r} not found (unknown, or expired)")
    return snap[0]


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or we cannot tell: keep it
    return True


async def _sweep(state: EngineState) -> None:
    while True:
        await asyncio.sleep(state.config.cleanup_interval)
        await run_in_threadpool(state.tasks.expire)


def _urls(request: Request, config: EngineConfig, task: Task) -> dict[str, str]:
    assert task.result is not None and task.file_id is not None
    origin = (config.public_url or str(request.base_url)).rstrip("/")
    return {
        f"{stem}_audio_url": f"{origin}/files/{task.file_id}/{task.result.files[stem]}"
        for stem in ("foreground", "background")
    }


def _queue_full(state: EngineState, retry_after: float | None = None) -> JSONResponse:
    if retry_after is None:
        retry_after = state.runner.retry_after()
    seconds = max(round(retry_after), 1)
    return JSONResponse(
        {"detail": f"the engine's job queue is full; retry in {seconds} s"},
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )


def _too_large(state: EngineState, run_id: int | None, size: int, limit: int) -> JSONResponse:
    try:
        task = state.tasks.create(output_format=state.config.default_format, run_id=run_id)
    except KeyError:
        raise HTTPException(409, f"run_id {run_id} is already in use") from None
    state.tasks.fail(
        task.task_id,
        SOURCE_TOO_LARGE,
        f"the upload passed {size / 2**20:.1f} MiB, larger than this engine's limit of "
        f"{limit / 2**20:.1f} MiB; compress it (e.g. to FLAC or MP3) or split it",
    )
    # The rest of the body is not read: close the connection rather than drain it.
    return JSONResponse({"task_id": task.task_id}, headers={"Connection": "close"})


def _validate_fields(raw: dict[str, str]) -> _SubmitFields:
    data = {k: v for k, v in raw.items() if k in _SubmitFields.model_fields}
    try:
        return _SubmitFields.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for error in errors:
            error["loc"] = ("body", *error["loc"])
        raise RequestValidationError(errors) from None


def _invalid(loc: tuple[str, ...], msg: str, value: Any, kind: str = "value_error") -> None:
    raise RequestValidationError([{"type": kind, "loc": loc, "msg": msg, "input": value}])


def _missing_file() -> None:
    raise RequestValidationError(
        [
            {
                "type": "missing",
                "loc": ("body", FILE_FIELDS[0]),
                "msg": f"Field required (send the audio as {' or '.join(FILE_FIELDS)})",
                "input": None,
            }
        ]
    )
