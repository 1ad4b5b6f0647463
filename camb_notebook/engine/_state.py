"""What one engine instance owns and knows: config, keys, folder, tasks, runner, metrics.

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
import logging
import os
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import IO

from .._exceptions import ConfigurationError, register_secret
from .._vocabulary import INTERNAL_ERROR
from ._config import EngineConfig
from ._db import TaskDB
from ._jobs import JobSpec
from ._keys import Caller, KeyRing
from ._metrics import Metrics
from ._pool import JobRunner, ProcessPool, queue_is_full
from ._signing import UrlSigner
from ._storage import Storage
from ._tasks import Task, TaskRegistry

__all__ = ["EngineState"]

log = logging.getLogger("camb_notebook.engine")


class EngineState:
    """Everything one app instance owns: config, keys, tasks, the job runner, its folder.

    Parameters
    ----------
    config : EngineConfig
    runner : JobRunner, optional
        Who runs the jobs; default a :class:`ProcessPool` sized by *config*, or a
        Dask runner when ``config.scheduler`` is set.
    """

    def __init__(self, config: EngineConfig, runner: JobRunner | None = None) -> None:
        self.config = config
        register_secret(config.api_key)
        self.keys = KeyRing.load(
            config.keys_file, api_key=config.api_key, admin_key=config.admin_key
        )
        base = config.storage_root()
        self._lock_file: IO[str] | None = None
        if config.persist:
            self.root = base
            self._lock_file = _lock_folder(base)
            db: TaskDB | None = TaskDB(base / "engine.sqlite3")
            self.signer = UrlSigner.in_folder(base)
        else:
            self.root = base / f"instance-{os.getpid()}-{secrets.token_hex(6)}"
            self.root.mkdir(parents=True, exist_ok=True)
            db = None
            self.signer = UrlSigner.ephemeral()
        self.storage = Storage(config.storage, self.root)
        self.metrics = Metrics(self)
        self.tasks = TaskRegistry(self.storage, config.result_ttl, db, self.metrics.on_task)
        self.runner: JobRunner = runner or self._default_runner()
        self._methods: list[str] | None = None

    def _default_runner(self) -> JobRunner:
        config = self.config
        if config.scheduler:
            from ._dask import DaskRunner

            return DaskRunner(
                self.tasks.on_event,
                scheduler=config.scheduler,
                max_queue=config.max_queue,
                job_timeout=config.job_timeout,
            )
        return ProcessPool(
            self.tasks.on_event,
            workers=config.workers,
            max_queue=config.max_queue,
            start_method=config.mp_start_method,
            job_timeout=config.job_timeout,
            nice=config.worker_nice,
            warm=config.prewarm,
            default_method=config.default_method,
        )

    # -- jobs -----------------------------------------------------------------------------

    def job_spec(self, task: Task) -> JobSpec:
        """The job that separates *task*'s stored upload into its ``out`` folder."""
        assert task.input_url is not None
        config = self.config
        return JobSpec(
            job_id=task.task_id,
            input_path=task.input_url,
            out_dir=self.storage.url(task.task_id, "out"),
            method=task.method,
            output_format=task.output_format,
            max_duration=config.max_duration,
            min_duration=config.min_duration,
            max_bytes=config.max_bytes,
            extra_methods=dict(config.extra_methods),
        )

    def resume(self) -> int:
        """Load the tasks of an earlier run (persistent engines); queue the unfinished again.

        A task whose upload is gone ends ``ERROR`` with the reason. Returns how many jobs
        were queued again.
        """
        again = self.tasks.restore()
        queued = 0
        for task in again:
            if task.input_url is None or not self.storage.exists(task.input_url):
                self.tasks.fail(
                    task.task_id,
                    INTERNAL_ERROR,
                    "the engine restarted while this job was waiting or running, and its "
                    "upload is no longer stored; submit the file again",
                )
                continue
            try:
                self.runner.submit(self.job_spec(task), force=True)
            except Exception as exc:  # the runner cannot take it: never leave it PENDING
                self.tasks.fail(
                    task.task_id, INTERNAL_ERROR, f"could not queue the job again: {exc!r}"
                )
                continue
            queued += 1
        if again:
            log.info("restart: %d unfinished job(s) queued again", queued)
        return queued

    def method_names(self) -> list[str]:
        """Names a submission may ask for: every built-in method (one whose model is missing
        falls back to the best one installed in the worker) and the configured extra ones.

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
        elif hasattr(self.runner, "prewarm"):
            self.runner.prewarm()
        threading.Thread(target=self.method_names, daemon=True).start()

    def queue_is_full(self) -> bool:
        """Whether a submission now would be refused (checked before reading its upload)."""
        runner, config = self.runner, self.config
        return queue_is_full(runner.queued(), runner.running(), runner.capacity(), config.max_queue)

    def key_is_full(self, caller: Caller) -> bool:
        """Whether *caller* already has ``max_jobs_per_key`` jobs waiting or running."""
        limit = self.config.max_jobs_per_key
        return limit is not None and self.tasks.active(caller.name) >= limit

    def cancel(self, task_id: str, caller: Caller) -> bool:
        """Stop *caller*'s task: marked cancelled first (saved, so a restart keeps it so, and
        a late event of its job changes nothing), then dropped from the queue or its job
        stopped. False when *caller* may not see the task (unknown, expired, someone else's).
        """
        task = self.tasks.cancel(task_id, caller)
        if task is None:
            return False
        self.runner.cancel(task_id)  # False when it had already ended: nothing to stop
        return True

    def queue_place(self, task_id: str) -> tuple[int, int] | None:
        """``(position, length)`` of a job waiting for a worker (1 = next), else None."""
        # Length first: between the two reads jobs can only join behind this one or
        # leave ahead of it, so the position never exceeds the length.
        length = self.runner.queued()
        position = self.runner.position(task_id)
        return None if position is None else (position, length)

    # -- folders --------------------------------------------------------------------------

    def sweep_stale_instances(self) -> None:
        """Delete private folders left behind by engines that died (killed kernels).

        A folder is stale when its process is gone (or, should the pid have been reused,
        when it has not changed for longer than the result TTL). A persistent engine
        owns its root and sweeps nothing beside it.
        """
        if self.config.persist:
            return
        cutoff = time.time() - self.config.result_ttl
        for folder in self.root.parent.glob("instance-*"):
            if folder == self.root:
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                pid = int(folder.name.split("-")[1])
                if not _pid_alive(pid) or folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        """Stop the runner; a private folder is deleted, a persistent one kept as it is."""
        self.tasks.closing = True
        self.runner.shutdown()
        if self.tasks.db is not None:
            self.tasks.db.close()
        if self._lock_file is not None:
            self._lock_file.close()
        if not self.config.persist:
            shutil.rmtree(self.root, ignore_errors=True)


def _lock_folder(folder: Path) -> IO[str] | None:
    """Hold ``folder/engine.lock`` for this process: two engines must not share a root.

    The kernel drops the lock when the process ends, however it ends (SIGKILL too).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks, no check
        return None
    handle = (folder / "engine.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise ConfigurationError(
            f"another engine (pid {holder}) is serving from {folder}; stop it, or give this "
            "one another root (camb-notebook serve --root DIR)",
            setting="root",
            value=str(folder),
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


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
