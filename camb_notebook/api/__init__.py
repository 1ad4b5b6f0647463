"""The CAMB.AI audio-separation client: blocking and asyncio, one contract, one set of rules.

``Client`` and ``AsyncClient`` mirror each other; the logic lives in a sans-I/O core
(:mod:`._core`), the clients only carry out its network and sleep requests with httpx.

Examples
--------
>>> from camb_notebook.api import Client
>>> with Client(api_key="sk-example-key") as client:
...     client
Client(base_url='https://client.camb.ai/apis', api_key='***')
"""

from ._client import AsyncClient, Client
from ._models import ResultURLs, SeparationResult, StemFiles, Task, TaskStatus
from ._options import BatchKwargs, SeparateKwargs, SeparateOptions
from ._retry import RetryPolicy, parse_retry_after
from ._settings import Settings, resolve_settings
from ._shortcuts import separate, separate_many
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
    "resolve_settings",
    "separate",
    "separate_many",
]
