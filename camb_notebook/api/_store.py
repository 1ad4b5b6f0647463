"""A small persistent record of submitted tasks, so a restarted kernel can pick them up again.

One SQLite file in ``cache_dir("tasks")``. It holds ids, the service's base URL (or a stable
name for a service whose URL changes, such as ``"local-engine"``), the file's
content hash and name, the last known state and the downloaded stem paths — never an API key.
SQLite makes every write atomic and lets threads and processes share the file.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from .._config import cache_dir
from ._models import Task, TaskStatus

__all__ = ["CANCELLED", "UNCERTAIN", "TaskRecord", "TaskStore", "public_base_url"]

#: State of an upload that broke after its body was sent (the service may have the task).
UNCERTAIN = "UNCERTAIN"
#: State of a task the service stopped on request (``Client.cancel``); never re-attached.
CANCELLED = "CANCELLED"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT,
    base_url TEXT NOT NULL,
    content_hash TEXT,
    filename TEXT,
    size INTEGER,
    method TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    run_id INTEGER,
    exception_reason TEXT,
    original TEXT,
    foreground TEXT,
    background TEXT,
    submitted_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (base_url, task_id)
);
CREATE INDEX IF NOT EXISTS tasks_by_content ON tasks (base_url, content_hash, method);
"""


def public_base_url(base_url: str) -> str:
    """*base_url* without any ``user:password@`` part, fit to be stored or shown.

    Examples
    --------
    >>> public_base_url("https://me:secret@h.example/apis")
    'https://h.example/apis'
    """
    url = httpx.URL(base_url)
    return str(url.copy_with(userinfo=b"")) if url.userinfo else base_url


@dataclass(frozen=True)
class TaskRecord:
    """One row of the task store.

    Attributes
    ----------
    id : int
        Row id (``TaskStore.forget(id)`` removes it).
    task_id : str or None
        None for an ``UNCERTAIN`` upload whose answer never arrived.
    state : str
        The last status seen (``PENDING``, ``SUCCESS``, ``ERROR``, …) or ``UNCERTAIN``.
    foreground, background, original : Path or None
        Files of a finished, downloaded separation.
    """

    id: int
    task_id: str | None
    base_url: str
    content_hash: str | None
    filename: str | None
    size: int | None
    method: str | None
    state: str
    run_id: int | None
    exception_reason: str | None
    original: Path | None
    foreground: Path | None
    background: Path | None
    submitted_at: float
    updated_at: float

    @property
    def finished(self) -> bool:
        """True when both stems were downloaded and are still on disk (reusable)."""
        stems = (self.foreground, self.background)
        return self.state == "SUCCESS" and all(p is not None and p.is_file() for p in stems)

    def to_task(self) -> Task:
        """The :class:`Task` to wait on (only for records with a task id)."""
        if self.task_id is None:
            raise ValueError(f"record {self.id} has no task id (state {self.state})")
        return Task(
            self.task_id,
            self.base_url,
            self.filename,
            self.content_hash,
            self.submitted_at,
            self.method or None,
        )


class TaskStore:
    """Persistent list of submitted tasks.

    Parameters
    ----------
    path : str or Path, optional
        The SQLite file; default ``cache_dir("tasks") / "tasks.sqlite3"``.

    Examples
    --------
    >>> store = TaskStore()
    >>> [r.task_id for r in store.unfinished()]  # doctest: +SKIP
    ['4f1c…']
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else cache_dir("tasks") / "tasks.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"TaskStore({str(self.path)!r})"

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation: safe across threads, and the file is never held open.
        with closing(sqlite3.connect(self.path, timeout=30.0)) as db, db:
            db.row_factory = sqlite3.Row
            yield db

    @staticmethod
    def _record(row: sqlite3.Row) -> TaskRecord:
        def path(v: str | None) -> Path | None:
            return Path(v) if v else None

        return TaskRecord(
            id=row["id"],
            task_id=row["task_id"],
            base_url=row["base_url"],
            content_hash=row["content_hash"],
            filename=row["filename"],
            size=row["size"],
            method=row["method"] or None,
            state=row["state"],
            run_id=row["run_id"],
            exception_reason=row["exception_reason"],
            original=path(row["original"]),
            foreground=path(row["foreground"]),
            background=path(row["background"]),
            submitted_at=row["submitted_at"],
            updated_at=row["updated_at"],
        )

    def _select(self, where: str, args: tuple[object, ...]) -> list[TaskRecord]:
        with self._db() as db:
            rows = db.execute(f"SELECT * FROM tasks WHERE {where} ORDER BY id DESC", args)
            return [self._record(r) for r in rows]

    def record_submitted(self, task: Task, size: int | None = None) -> None:
        """Remember a task the service accepted (state ``PENDING``)."""
        now = time.time()
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO tasks (task_id, base_url, content_hash, filename, size,"
                " method, state, submitted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task.task_id,
                    public_base_url(task.base_url),
                    task.content_hash,
                    task.filename,
                    size,
                    task.method or "",
                    "PENDING",
                    task.submitted_at or now,
                    now,
                ),
            )

    def record_uncertain(
        self,
        base_url: str,
        content_hash: str,
        filename: str,
        size: int,
        method: str | None = None,
    ) -> int:
        """Remember an upload that may or may not have created a task; returns the row id."""
        now = time.time()
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO tasks (task_id, base_url, content_hash, filename, size, method,"
                " state, submitted_at, updated_at) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
                (public_base_url(base_url), content_hash, filename, size, method or "",
                 UNCERTAIN, now, now),
            )  # fmt: skip
            return int(cur.lastrowid or 0)

    def update_status(self, base_url: str, status: TaskStatus) -> None:
        """Store the latest status of a known task."""
        with self._db() as db:
            db.execute(
                "UPDATE tasks SET state = ?, run_id = COALESCE(?, run_id), exception_reason = ?,"
                " updated_at = ? WHERE base_url = ? AND task_id = ?",
                (
                    status.status,
                    status.run_id,
                    status.exception_reason,
                    time.time(),
                    public_base_url(base_url),
                    status.task_id,
                ),
            )

    def record_files(
        self, base_url: str, task_id: str, original: Path, foreground: Path, background: Path
    ) -> None:
        """Store where a finished task's stems were saved."""
        with self._db() as db:
            db.execute(
                "UPDATE tasks SET state = 'SUCCESS', original = ?, foreground = ?, background = ?,"
                " updated_at = ? WHERE base_url = ? AND task_id = ?",
                (
                    str(original),
                    str(foreground),
                    str(background),
                    time.time(),
                    public_base_url(base_url),
                    task_id,
                ),
            )

    def record_stems(
        self,
        base_url: str,
        foreground: Path,
        background: Path,
        *,
        task_id: str | None = None,
        run_id: int | None = None,
    ) -> int:
        """Store where the stems of a finished task were downloaded, whoever downloaded them.

        The task is found by *task_id*, else by *run_id* (a download from
        ``client.result(run_id)``). Its original file, if known, is kept. Returns the number
        of records updated (0 for a task this store never saw).
        """
        if task_id is None and run_id is None:
            return 0
        where, key = ("task_id = ?", task_id) if task_id is not None else ("run_id = ?", run_id)
        with self._db() as db:
            cur = db.execute(
                "UPDATE tasks SET state = 'SUCCESS', foreground = ?, background = ?,"
                f" updated_at = ? WHERE base_url = ? AND {where}",
                (str(foreground), str(background), time.time(), public_base_url(base_url), key),
            )
            return cur.rowcount

    def get(self, base_url: str, task_id: str) -> TaskRecord | None:
        """The record of *task_id* on *base_url*, if any."""
        rows = self._select("base_url = ? AND task_id = ?", (public_base_url(base_url), task_id))
        return rows[0] if rows else None

    def find(
        self, base_url: str, content_hash: str, method: str | None = None
    ) -> TaskRecord | None:
        """The most useful record for this file on this service, for reuse.

        A finished separation with its files on disk comes first, then a pending task, then an
        uncertain upload; failed tasks are never reused.
        """
        rows = self._select(
            "base_url = ? AND content_hash = ? AND method = ?",
            (public_base_url(base_url), content_hash, method or ""),
        )
        for wanted in ("finished", "PENDING", UNCERTAIN):
            for r in rows:
                if r.finished if wanted == "finished" else r.state == wanted:
                    return r
        return None

    def unfinished(self, base_url: str | None = None) -> list[TaskRecord]:
        """Tasks still pending (or uploads of unknown outcome), newest first."""
        where = "state IN ('PENDING', ?)"
        args: tuple[object, ...] = (UNCERTAIN,)
        if base_url is not None:
            where += " AND base_url = ?"
            args += (public_base_url(base_url),)
        return self._select(where, args)

    def all(self) -> list[TaskRecord]:
        """Every record, newest first."""
        return self._select("1", ())

    def forget(self, record_id: int) -> None:
        """Remove a record (e.g. an ``UNCERTAIN`` upload you have checked)."""
        with self._db() as db:
            db.execute("DELETE FROM tasks WHERE id = ?", (record_id,))
