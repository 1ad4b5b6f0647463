"""The engine's table of tasks: owner, state, progress, results, expiry — kept on disk too.

Updated from the job runner's thread and read from the event loop, so every access
goes through one lock. The table lives in memory for speed and is written through to
SQLite (:mod:`._db`) at every change of state, so :meth:`TaskRegistry.restore` after a
restart finds every task as it last was. Files live in :class:`~._storage.Storage` and
are deleted when their task expires.

Every task belongs to the name of the key that created it; lookups take the asking
:class:`~._keys.Caller` and answer as if another person's tasks did not exist. Run ids
are random 53-bit integers (exact in JavaScript too), unique per owner: nobody learns
anything by counting.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._vocabulary import CANCELLED, ERROR, INTERNAL_ERROR, PENDING, SUCCESS
from ._db import TaskDB
from ._jobs import JobFailure, JobResult
from ._keys import Caller
from ._storage import Storage

__all__ = ["MAX_ATTEMPTS", "Task", "TaskRegistry"]

#: Starts of one job (engine restarts mid-job, lost workers) before it is given up.
MAX_ATTEMPTS = 3
_RUN_MIN = 10**9  # run ids never look like a small counter
_RUN_SPAN = 2**53 - _RUN_MIN

#: ``listener(event, task)`` with event "started" or "finished"; called outside the lock.
Listener = Callable[[str, "Task"], None]


@dataclass
class Task:
    """One submission and everything the status call reports about it."""

    task_id: str
    run_id: int
    owner: str
    output_format: str
    method: str | None = None
    status: str = PENDING
    exception_reason: str | None = None
    message: str | None = None
    progress: float = 0.0
    started: bool = False
    started_at: float | None = None
    attempts: int = 0
    created: float = field(default_factory=time.time)
    finished: float | None = None
    file_id: str | None = None
    result: JobResult | None = None
    input_url: str | None = None
    project_name: str | None = None
    project_description: str | None = None
    folder_id: int | None = None

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

    def listing(self) -> dict[str, Any]:
        """The task's line in ``GET /apis/engine/tasks``."""
        return {
            "task_id": self.task_id,
            "status": self.status,
            "run_id": self.run_id if self.status == SUCCESS else None,
            "method": self.method,
            "created": self.created,
            "finished": self.finished,
            "owner": self.owner,
        }

    def row(self) -> dict[str, Any]:
        """The task as a row of :class:`~._db.TaskDB`."""
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        row["started"] = self.started_at
        row["result"] = None if self.result is None else json.dumps(dataclasses.asdict(self.result))
        return row

    @classmethod
    def from_row(cls, row: Any) -> Task:
        values = dict(row)
        result = values.pop("result")
        started_at = values.pop("started")
        return cls(
            **values,
            started_at=started_at,
            result=None if result is None else JobResult(**json.loads(result)),
        )


class TaskRegistry:
    """Thread-safe table of tasks by task id, (owner, run id) and file id.

    Parameters
    ----------
    storage : Storage
        Where each task's files live.
    ttl : float
        Seconds a task (and its files) lives after it finished.
    db : TaskDB, optional
        Where every change of state is written; None keeps tasks in memory only.
    listener : callable, optional
        ``listener(event, task)`` for "started" and "finished" (metrics).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> reg = TaskRegistry(Storage(None, Path(tempfile.mkdtemp())), ttl=60)
    >>> task = reg.create(owner="ana", output_format="flac")
    >>> reg.get(task.task_id, Caller("ana")).status, reg.get(task.task_id, Caller("bo"))
    ('PENDING', None)
    >>> task.run_id >= 10**9
    True
    """

    def __init__(
        self,
        storage: Storage,
        ttl: float,
        db: TaskDB | None = None,
        listener: Listener | None = None,
    ) -> None:
        self.storage = storage
        self.ttl = ttl
        self.db = db
        self.listener = listener
        #: Set while the engine shuts down: jobs then still running stay PENDING on disk,
        #: to run again after the restart, instead of being failed by the stopping runner.
        self.closing = False
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}
        self._runs: dict[int, dict[str, str]] = {}  # run_id -> {owner: task_id}
        self._files: dict[str, str] = {}

    # -- writing ------------------------------------------------------------------------

    def _save(self, task: Task) -> None:
        if self.db is not None:
            self.db.save(task.row())

    def _index(self, task: Task) -> None:
        self._tasks[task.task_id] = task
        self._runs.setdefault(task.run_id, {})[task.owner] = task.task_id
        if task.file_id is not None:
            self._files[task.file_id] = task.task_id

    def _unindex(self, task: Task) -> None:
        self._tasks.pop(task.task_id, None)
        owners = self._runs.get(task.run_id, {})
        owners.pop(task.owner, None)
        if not owners:
            self._runs.pop(task.run_id, None)
        if task.file_id is not None:
            self._files.pop(task.file_id, None)

    def create(
        self, *, owner: str, output_format: str, run_id: int | None = None, **meta: Any
    ) -> Task:
        """Register (and persist) a new PENDING task of *owner*.

        Raises
        ------
        KeyError
            *owner* already has a task with *run_id*.
        """
        task_id = str(uuid.uuid4())
        chosen = run_id is not None
        with self._lock:
            if run_id is not None and owner in self._runs.get(run_id, {}):
                raise KeyError(run_id)
            while run_id is None or (run_id in self._runs and not chosen):
                run_id = _RUN_MIN + secrets.randbelow(_RUN_SPAN)
            task = Task(
                task_id=task_id, run_id=run_id, owner=owner, output_format=output_format, **meta
            )
            self._index(task)
            self._save(task)
        return task

    def set_input(self, task_id: str, input_url: str) -> None:
        """Record where a task's upload is stored (what a restart needs to run it again)."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is not None:
                task.input_url = input_url
                self._save(task)

    def fail(self, task_id: str, reason: str, message: str, status: str = ERROR) -> None:
        """End a task without a result; its upload is deleted."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or task.status != PENDING:
                return
            if self.closing and self.db is not None and reason == INTERNAL_ERROR:
                return  # the runner is stopping: run it again after the restart
            task.status = status
            task.exception_reason = reason
            task.message = message
            task.finished = time.time()
            self._save(task)
        self.storage.remove_input(task_id)
        self._notify("finished", task)

    def cancel(self, task_id: str, caller: Caller) -> Task | None:
        """End *caller*'s PENDING task as cancelled (``ERROR``, reason ``CANCELLED``, saved).

        Returns the task (also when it had already ended: nothing to cancel then), or None
        when *caller* may not see it (another person's id is as unknown as a wrong one).
        """
        task = self.get(task_id, caller)
        if task is not None:
            self.fail(task_id, CANCELLED, "cancelled on request before it finished")
        return task

    def discard(self, task_id: str) -> None:
        """Forget a task that was never accepted (e.g. refused with 429)."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is not None:
                self._unindex(task)
        if task is not None:
            if self.db is not None:
                self.db.delete([task_id])
            self.storage.remove(task_id)

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
                task.started_at = time.time()
                task.attempts += 1
                task.message = f"separating with {task.method or 'the best available method'}"
                self._save(task)
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
                self._save(task)
        if kind == "done":
            self.storage.remove_input(job_id)
        if kind in ("started", "done"):
            self._notify("started" if kind == "started" else "finished", task)

    def _notify(self, event: str, task: Task) -> None:
        if self.listener is not None:
            with contextlib.suppress(Exception):  # metrics must never break the engine
                self.listener(event, task)

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
                self._unindex(task)
        if self.db is not None:
            self.db.delete([t.task_id for t in old])
        for task in old:
            self.storage.remove(task.task_id)
        return len(old)

    def restore(self) -> list[Task]:
        """Load the tasks of a previous run from disk; return those that must run again.

        A task that was started :data:`MAX_ATTEMPTS` times already ends ``ERROR`` instead:
        a job that keeps taking the engine down must not do it forever.
        """
        if self.db is None:
            return []
        again: list[Task] = []
        given_up: list[Task] = []
        with self._lock:
            for row in self.db.load():
                task = Task.from_row(row)
                self._index(task)
                if task.status != PENDING:
                    continue
                if task.attempts >= MAX_ATTEMPTS:
                    given_up.append(task)
                else:
                    again.append(task)
        for task in given_up:
            self.fail(
                task.task_id,
                INTERNAL_ERROR,
                f"the job was interrupted {task.attempts} times (engine restarts or lost "
                "workers) and is not tried again; submit it again, and if it keeps failing "
                "try a shorter clip or another method",
            )
        return again

    # -- reading ------------------------------------------------------------------------

    def run_id_taken(self, owner: str, run_id: int) -> bool:
        with self._lock:
            return owner in self._runs.get(run_id, {})

    def get(self, task_id: str, caller: Caller | None = None) -> Task | None:
        """The task, if it exists and *caller* (None = the engine itself) may see it."""
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None or (caller is not None and not caller.sees(task.owner)):
            return None
        return task

    def by_run(self, run_id: int, caller: Caller) -> Task | None:
        with self._lock:
            owners = self._runs.get(run_id, {})
            task_id = owners.get(caller.name)
            if task_id is None and caller.admin and owners:
                task_id = next(iter(owners.values()))
            return None if task_id is None else self._tasks.get(task_id)

    def by_file(self, file_id: str) -> Task | None:
        with self._lock:
            task_id = self._files.get(file_id)
            return None if task_id is None else self._tasks.get(task_id)

    def snapshot(self, task_id: str, caller: Caller) -> tuple[dict[str, Any], Task] | None:
        """A consistent copy of the status fields, and the task (None if not *caller*'s)."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or not caller.sees(task.owner):
                return None
            return task.snapshot(), task

    def listing(self, caller: Caller) -> list[dict[str, Any]]:
        """The tasks *caller* may see, newest first."""
        with self._lock:
            tasks = [t.listing() for t in self._tasks.values() if caller.sees(t.owner)]
        return sorted(tasks, key=lambda t: t["created"], reverse=True)

    def active(self, owner: str) -> int:
        """Jobs of *owner* waiting or running."""
        with self._lock:
            return sum(t.owner == owner and t.status == PENDING for t in self._tasks.values())

    def load_by_owner(self) -> dict[str, dict[str, int]]:
        """``{owner: {"queued", "running", "finished"}}`` for the admin's view."""
        out: dict[str, dict[str, int]] = {}
        with self._lock:
            for t in self._tasks.values():
                counts = out.setdefault(t.owner, {"queued": 0, "running": 0, "finished": 0})
                if t.status != PENDING:
                    counts["finished"] += 1
                elif t.started:
                    counts["running"] += 1
                else:
                    counts["queued"] += 1
        return out

    def counts(self) -> dict[tuple[str, str], int]:
        """``{(status, method): tasks}`` of every task held now."""
        out: dict[tuple[str, str], int] = {}
        with self._lock:
            for t in self._tasks.values():
                key = (t.status, t.method or "default")
                out[key] = out.get(key, 0) + 1
        return out


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
