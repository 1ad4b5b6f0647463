"""The engine's ASGI app: the routes wired to one :class:`EngineState` for its lifetime.

The routes live in ``_routes``, the state in ``_state``, the answer models in
``_schema``; this module only puts them together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .._version import __version__
from . import _routes
from ._config import EngineConfig
from ._pool import JobRunner
from ._schema import with_method_names
from ._state import EngineState

__all__ = ["create_app"]

access_log = logging.getLogger("camb_notebook.engine.access")


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
    config = config or EngineConfig()
    app = FastAPI(
        title="camb_notebook local engine",
        version=__version__,
        description=_routes.__doc__,
        openapi_url="/apis/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(config, runner),
    )
    app.state.engine_config = config
    app.include_router(_routes.api)
    app.include_router(_routes.files)
    app.include_router(_routes.metrics)
    if config.access_log:
        app.add_middleware(AccessLog)
    app.openapi = lambda: _openapi_with_method_names(app)  # type: ignore[method-assign]
    return app


def _lifespan(
    config: EngineConfig, runner: JobRunner | None
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Off the event loop: a Dask runner connects to its scheduler, a persistent
        # engine reads its database and checks the uploads of unfinished tasks.
        state = await run_in_threadpool(EngineState, config, runner)
        app.state.engine = state
        state.sweep_stale_instances()
        await run_in_threadpool(state.resume)
        if config.prewarm:
            state.prewarm()
        sweeper = asyncio.create_task(_expire_forever(state))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await run_in_threadpool(state.close)

    return lifespan


async def _expire_forever(state: EngineState) -> None:
    while True:
        await asyncio.sleep(state.config.cleanup_interval)
        await run_in_threadpool(state.tasks.expire)


def _openapi_with_method_names(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with the method names added, cached once they are known.

    Before the engine runs (no state yet) the document is built without them and
    not cached.
    """
    if app.openapi_schema is not None:
        return app.openapi_schema
    doc = FastAPI.openapi(app)
    app.openapi_schema = None  # FastAPI.openapi caches; keep it only when complete
    state: EngineState | None = getattr(app.state, "engine", None)
    if state is None:
        return doc
    app.openapi_schema = with_method_names(doc, state.method_names())
    return app.openapi_schema


class AccessLog:
    """One log line per request: client, method, path (never the query: result links carry
    their signature there), status, time, and the key's *name* (never the key)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        code = [0]

        async def send_and_note(message: Any) -> None:
            if message["type"] == "http.response.start":
                code[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            caller = scope.get("state", {}).get("caller")
            client = scope.get("client") or ("-", 0)
            access_log.info(
                '%s "%s %s" %d %.0f ms key=%s',
                client[0],
                scope["method"],
                scope["path"],
                code[0],
                (time.perf_counter() - started) * 1e3,
                caller.name if caller is not None else "-",
            )
