"""The CAMB.AI audio-separation client: blocking and asyncio, one contract, one set of rules.

``Client`` and ``AsyncClient`` mirror each other; the logic lives in a sans-I/O core
(:mod:`._core`) that only yields requests: network calls, sleeps, callbacks and local work
(task store, probing, hashing, files). ``Client`` carries them out in line; ``AsyncClient``
awaits the network with httpx and runs the local work in worker threads, off the event loop.

Examples
--------
>>> from camb_notebook.api import Client
>>> with Client(api_key="sk-example-key") as client:
...     client
Client(base_url='https://client.camb.ai/apis', api_key='***')
"""

from ._client import AsyncClient, Client
from ._models import ResultURLs, SeparationResult, StemFiles, Task, TaskStatus
from ._options import BatchKwargs, SeparateKwargs, SeparateOptions, spelled_out
from ._retry import RetryPolicy, parse_retry_after
from ._settings import Settings, require_settings, resolve_settings
from ._store import TaskRecord, TaskStore

__all__ = [
    "AsyncClient",
    "BatchKwargs",
    "Client",
    "ResultURLs",
    "RetryPolicy",
    "SeparateKwargs",
    "SeparateOptions",
    "SeparationResult",
    "Settings",
    "StemFiles",
    "Task",
    "TaskRecord",
    "TaskStatus",
    "TaskStore",
    "parse_retry_after",
    "require_settings",
    "resolve_settings",
    "spelled_out",
]
