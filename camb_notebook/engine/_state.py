"""What one engine instance owns and knows: its config, folder, tasks and job runner.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> state = EngineState(EngineConfig(root=Path(tempfile.mkdtemp())))
>>> state.queue_is_full(), state.queue_place("no-such-task")
(False, None)
>>> state.close()
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import threading
import time

from .._exceptions import register_secret
from ._config import EngineConfig
from ._pool import JobRunner, ProcessPool, queue_is_full
from ._tasks import TaskRegistry

__all__ = ["EngineState"]


class EngineState:
    """Everything one app instance owns: config, tasks, the job runner, its folder.

    Parameters
    ----------
    config : EngineConfig
    runner : JobRunner, optional
        Who runs the jobs; default a :class:`ProcessPool` sized by *config*.
    """

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

    def prewarm(self) -> None:
        """Start the workers and load the method names in the background, before any job."""
        if isinstance(self.runner, ProcessPool):
            self.runner.start()
        threading.Thread(target=self.method_names, daemon=True).start()

    def queue_is_full(self) -> bool:
        """Whether a submission now would be refused (checked before reading its upload)."""
        runner, config = self.runner, self.config
        return queue_is_full(runner.queued(), runner.running(), config.workers, config.max_queue)

    def queue_place(self, task_id: str) -> tuple[int, int] | None:
        """``(position, length)`` of a job waiting for a worker (1 = next), else None."""
        # Length first: between the two reads jobs can only join behind this one or
        # leave ahead of it, so the position never exceeds the length.
        length = self.runner.queued()
        position = self.runner.position(task_id)
        return None if position is None else (position, length)

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
        """Stop the runner and delete this instance's folder."""
        self.runner.shutdown()
        shutil.rmtree(self.root, ignore_errors=True)


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
