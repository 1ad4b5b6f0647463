"""The engine's memory on disk: one SQLite table of tasks, their runs and their results.

Written at every change of a task's state (created, started, finished, failed, gone),
never for progress ticks, so a restart — even after SIGKILL — finds every task as it
last was. WAL journaling with ``synchronous=NORMAL``: a committed row survives the
process being killed (only a power cut may lose the last few), and readers never wait
for the writer.

Examples
--------
>>> import tempfile
>>> db = TaskDB(Path(tempfile.mkdtemp()) / "engine.sqlite3")
>>> db.save({"task_id": "t1", "owner": "ana", "run_id": 7, "status": "PENDING",
...          "output_format": "flac", "created": 1.0})
>>> [row["run_id"] for row in db.load()]
[7]
>>> db.close()
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

__all__ = ["COLUMNS", "TaskDB"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    exception_reason TEXT,
    message TEXT,
    method TEXT,
    output_format TEXT NOT NULL,
    project_name TEXT,
    project_description TEXT,
    folder_id INTEGER,
    input_url TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    file_id TEXT UNIQUE,
    result TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS runs ON tasks (owner, run_id);
"""
_VERSION = 1

#: The columns of a task row, in table order.
COLUMNS = (
    "task_id",
    "owner",
    "run_id",
    "status",
    "exception_reason",
    "message",
    "method",
    "output_format",
    "project_name",
    "project_description",
    "folder_id",
    "input_url",
    "created",
    "started",
    "finished",
    "attempts",
    "file_id",
    "result",
)


class TaskDB:
    """One SQLite file, one connection shared by the server's threads under a lock.

    Parameters
    ----------
    path : Path
        The database file (created with its table if missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > _VERSION:
                raise RuntimeError(
                    f"{path} was written by a newer camb_notebook (schema {version}); "
                    "upgrade camb_notebook or serve from another --root"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={_VERSION}")

    def save(self, row: dict[str, Any]) -> None:
        """Insert or replace the row of ``row["task_id"]`` (missing columns are NULL/0)."""
        values = [row.get(c, 0 if c == "attempts" else None) for c in COLUMNS]
        marks = ", ".join("?" * len(COLUMNS))
        with self._lock:
            self._db.execute(
                f"INSERT OR REPLACE INTO tasks ({', '.join(COLUMNS)}) VALUES ({marks})", values
            )

    def delete(self, task_ids: list[str]) -> None:
        """Forget tasks (expired, or never accepted)."""
        if not task_ids:
            return
        with self._lock:
            self._db.executemany("DELETE FROM tasks WHERE task_id = ?", [(t,) for t in task_ids])

    def load(self) -> list[sqlite3.Row]:
        """Every task, oldest first."""
        with self._lock:
            return list(self._db.execute("SELECT * FROM tasks ORDER BY created"))

    def close(self) -> None:
        with self._lock:
            self._db.close()
