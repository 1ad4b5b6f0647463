"""The engine's memory of tasks: state, progress, results, expiry.

Updated from the job runner's thread and read from the event loop, so every access
goes through one lock. Tasks live in memory; their files live under the engine's
own folder and are deleted when the task expires.
"""

from __future__ import annotations

import itertools
import secrets
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._jobs import CANCELLED, JobFailure, JobResult

__all__ = ["Task", "TaskRegistry"]

PENDING, SUCCESS, ERROR = "PENDING", "SUCCESS", "ERROR"


@dataclass
class Task:
    """One submission and everything the status call reports about it."""

    task_id: str
    run_id: int
    work_dir: Path
    output_format: str
    method: str | None = None
    status: str = PENDING
    exception_reason: str | None = None
    message: str | None = None
    progress: float = 0.0
    started: bool = False
    created: float = field(default_factory=time.time)
    finished: float | None = None
    file_id: str | None = None
    result: JobResult | None = None
    project_name: str | None = None
    project_description: str | None = None
    folder_id: int | None = None

    @property
    def out_dir(self) -> Path:
        """Where the worker writes the stems."""
        return self.work_dir / "out"

    def snapshot(self) -> dict[str, Any]:
        """The fields of the status answer (URLs are added by the app)."""
        return {
            "status": self.status,
            "run_id": self.run_id if self.status == SUCCESS else None,
            "exception_reason": self.exception_reason,
            "message": self.message,
            "progress": round(self.progress, 1),
            "method": self.method,
            "residual_db": None if self.result is None else round(self.result.residual_dbfs, 2),
        }


class TaskRegistry:
    """Thread-safe table of tasks by task id, run id and file id.

    Parameters
    ----------
    root : Path
        This engine instance's folder; each task gets ``root/<task_id>/``.
    ttl : float
        Seconds a task (and its files) lives after it finished.

    Examples
    --------
    >>> import tempfile
    >>> reg = TaskRegistry(Path(tempfile.mkdtemp()), ttl=60)
    >>> task = reg.create(output_format="flac")
    >>> reg.get(task.task_id).status
    'PENDING'
    """

    def __init__(self, root: Path, ttl: float) -> None:
        self.root = root
        self.ttl = ttl
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}
        self._runs: dict[int, str] = {}
        self._files: dict[str, str] = {}
        self._run_counter = itertools.count(1)

    def create(self, *, output_format: str, run_id: int | None = None, **meta: Any) -> Task:
        """Register a new PENDING task.

        Raises
        ------
        KeyError
            *run_id* is already used by another task.
        """
        task_id = str(uuid.uuid4())
        with self._lock:
            if run_id is not None and run_id in self._runs:
                raise KeyError(run_id)
            if run_id is None:
                run_id = next(self._run_counter)
                while run_id in self._runs:
                    run_id = next(self._run_counter)
            task = Task(
                task_id=task_id,
                run_id=run_id,
                work_dir=self.root / task_id,
                output_format=output_format,
                **meta,
            )
            self._tasks[task_id] = task
            self._runs[run_id] = task_id
        task.work_dir.mkdir(parents=True, exist_ok=True)
        return task

    def run_id_taken(self, run_id: int) -> bool:
        with self._lock:
            return run_id in self._runs

    def get(self, task_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def by_run(self, run_id: int) -> Task | None:
        with self._lock:
            task_id = self._runs.get(run_id)
            return None if task_id is None else self._tasks.get(task_id)

    def by_file(self, file_id: str) -> Task | None:
        with self._lock:
            task_id = self._files.get(file_id)
            return None if task_id is None else self._tasks.get(task_id)

    def snapshot(self, task_id: str) -> tuple[dict[str, Any], Task] | None:
        """A consistent copy of the status fields, and the task."""
        with self._lock:
            task = self._tasks.get(task_id)
            return None if task is None else (task.snapshot(), task)

    def counts(self) -> dict[str, int]:
        with self._lock:
            out = {PENDING: 0, SUCCESS: 0, ERROR: 0}
            for task in self._tasks.values():
                out[task.status] = out.get(task.status, 0) + 1
            return out

    def fail(self, task_id: str, reason: str, message: str, status: str = ERROR) -> None:
        """End a task without a result; its upload is deleted."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or task.status != PENDING:
                return
            task.status = status
            task.exception_reason = reason
            task.message = message
            task.finished = time.time()
        shutil.rmtree(task.work_dir / "in", ignore_errors=True)

    def cancel(self, task_id: str) -> bool:
        """End a PENDING task as cancelled (status ``ERROR``, reason ``CANCELLED``).

        Returns False when the task had already ended (nothing to cancel).
        """
        with self._lock:
            task = self._tasks.get(task_id)
            pending = task is not None and task.status == PENDING
        if pending:
            self.fail(task_id, CANCELLED, "cancelled by the client before it finished")
        return pending

    def discard(self, task_id: str) -> None:
        """Forget a task that was never accepted (e.g. refused with 429)."""
        with self._lock:
            task = self._tasks.pop(task_id, None)
            if task is not None:
                self._runs.pop(task.run_id, None)
        if task is not None:
            shutil.rmtree(task.work_dir, ignore_errors=True)

    def on_event(self, kind: str, job_id: str, payload: Any) -> None:
        """Apply a job runner event (see ``_pool.EventCallback``)."""
        if kind == "failed":
            assert isinstance(payload, JobFailure)
            self.fail(job_id, payload.reason, payload.message, payload.status)
            return
        with self._lock:
            task = self._tasks.get(job_id)
            if task is None or task.status != PENDING:
                return
            if kind == "started":
                task.started = True
                task.message = f"separating with {task.method or 'the best available method'}"
            elif kind == "progress":
                task.progress = max(task.progress, 100.0 * float(payload))
            elif kind == "done":
                assert isinstance(payload, JobResult)
                task.result = payload
                task.method = payload.method
                task.status = SUCCESS
                task.progress = 100.0
                task.finished = time.time()
                task.file_id = secrets.token_urlsafe(24)
                task.message = _success_message(payload)
                self._files[task.file_id] = task.task_id
        if kind == "done":
            shutil.rmtree(task.work_dir / "in", ignore_errors=True)

    def expire(self, now: float | None = None) -> int:
        """Delete tasks that finished more than ``ttl`` seconds ago; return how many."""
        now = time.time() if now is None else now
        with self._lock:
            old = [
                t
                for t in self._tasks.values()
                if t.finished is not None and now - t.finished > self.ttl
            ]
            for task in old:
                del self._tasks[task.task_id]
                self._runs.pop(task.run_id, None)
                if task.file_id is not None:
                    self._files.pop(task.file_id, None)
        for task in old:
            shutil.rmtree(task.work_dir, ignore_errors=True)
        return len(old)


def _success_message(result: JobResult) -> str:
    # rms_db bottoms out at -120 dBFS: at the floor the residual is "at most" that.
    bound = "at most " if result.residual_dbfs <= -119.95 else ""
    parts = [
        f"separated with {result.method} in {result.elapsed:.1f} s; foreground + background "
        f"reconstruct the original with a residual of {bound}{result.residual_dbfs:.1f} dBFS "
        f"({bound}{result.residual_rel_db:.1f} dB relative to the original)"
    ]
    if result.clipped_samples:
        parts.append(
            f"{result.clipped_samples} samples beyond full scale were clipped in the FLAC "
            "files; request format=wav (32-bit float) for bit-exact stems"
        )
    if result.method_note:
        parts.append(result.method_note)
    return "; ".join(parts)
