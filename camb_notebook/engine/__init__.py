"""The local engine: CAMB.AI's audio-separation contract served on this machine.

Same HTTP API as the cloud (``/apis/audio-separation`` …), so one client talks to
both. Embedded: :func:`local_engine` starts it on 127.0.0.1 in a background thread
the first time it is needed. Shared: :func:`serve` (``camb-notebook serve``) for a
class or a team. Jobs run in worker processes behind the :class:`JobRunner` seam.

Importing this package is cheap; FastAPI and uvicorn load when an engine starts.

The parts, each with one job: ``_server`` (start, stop, serve), ``_app`` (the app
factory and its lifespan), ``_routes`` (the HTTP handlers), ``_submit`` (the steps of
a submission), ``_schema`` (answer models and the documented form), ``_state`` (what
one engine instance owns), ``_tasks`` (the task table), ``_upload`` (streaming
multipart reader), ``_pool`` and ``_worker`` (who runs the jobs, and the job itself),
``_jobs`` (what travels between them), ``_lossless`` (stem files) and ``_config``.

Examples
--------
>>> from camb_notebook.engine import EngineConfig, start_engine
>>> engine = start_engine(EngineConfig(api_key="k"))
>>> engine.base_url.endswith("/apis")
True
>>> engine.stop()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import EngineConfig
from ._server import EngineHandle, local_engine, serve, start_engine

if TYPE_CHECKING:
    from ._app import create_app
    from ._pool import JobRunner, ProcessPool, QueueFull

__all__ = [
    "EngineConfig",
    "EngineHandle",
    "JobRunner",
    "ProcessPool",
    "QueueFull",
    "create_app",
    "local_engine",
    "serve",
    "start_engine",
]

_LAZY = {
    "create_app": "._app",
    "JobRunner": "._pool",
    "ProcessPool": "._pool",
    "QueueFull": "._pool",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
