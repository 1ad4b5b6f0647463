"""What a widget remembers across kernel restarts: the clips it had, to bring them back.

A notebook cell that makes a widget gets a small JSON file in ``cache_dir("widget")``, named
after the notebook's path and the cell's id (JupyterLab and Notebook 7 send both with every
execution). It lists the clips that were done or still running: name, file, task id and the
service's name in the task store — never audio, never a key. When the cell runs again in a
new kernel, the widget finds the finished separations in the task store and shows them at
once; nothing is ever sent to a service by this.

Examples
--------
>>> import tempfile
>>> book = Session("demo.ipynb#cell-1", folder=Path(tempfile.mkdtemp()))
>>> book.save([{"name": "song.wav", "task_id": "t-1"}])
True
>>> book.load()[0]["task_id"]
't-1'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from .._config import cache_dir

__all__ = ["Session", "cell_session_key"]

log = logging.getLogger("camb_notebook.widget")

#: Fields of a clip kept in the session file.
FIELDS = (
    "id",
    "name",
    "size",
    "source",
    "path",
    "state",
    "task_id",
    "service",
    "method",
    # A run of a card of several (add_file(methods=..., clients=...)).
    "group",
    "run",
    "run_method",
    "run_client",
)


def cell_session_key() -> str | None:
    """``"<notebook path>#<cell id>"`` of the running cell, or None outside such a front end.

    The notebook's path comes from ``JPY_SESSION_NAME`` (set by Jupyter Server for the
    kernels it starts); the cell's id from the execute request's metadata (``cellId``).
    """
    notebook = os.environ.get("JPY_SESSION_NAME")
    if not notebook:
        return None
    try:
        from IPython import get_ipython

        kernel = getattr(get_ipython(), "kernel", None)
        parent = kernel.get_parent() if kernel is not None else None
    except Exception:  # not a kernel, or one whose parent header cannot be read here
        return None
    metadata = (parent or {}).get("metadata") or {}
    cell = metadata.get("cellId") or metadata.get("cell_id")
    return f"{notebook}#{cell}" if cell else None


class Session:
    """The session file of one widget.

    Parameters
    ----------
    key : str
        Names the session (see :func:`cell_session_key`).
    folder : Path, optional
        Default ``cache_dir("widget")``.
    """

    def __init__(self, key: str, folder: Path | None = None) -> None:
        self.key = key
        name = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        self.path = (folder or cache_dir("widget")) / f"session-{name}.json"
        self._written: list[dict[str, Any]] | None = None

    def load(self) -> list[dict[str, Any]]:
        """The clips remembered, oldest first; [] when there is no (readable) file."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(data, dict) or data.get("key") != self.key:
            return []
        clips = data.get("clips")
        return [c for c in clips if isinstance(c, dict)] if isinstance(clips, list) else []

    def save(self, clips: list[dict[str, Any]]) -> bool:
        """Write the clips (only the :data:`FIELDS`); False when nothing changed."""
        records = [{k: c.get(k) for k in FIELDS if c.get(k) is not None} for c in clips]
        if records == self._written:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".part")
        try:
            tmp.write_text(json.dumps({"key": self.key, "clips": records}), encoding="utf-8")
            tmp.replace(self.path)
        except OSError as error:  # remembering is a convenience: never fail a clip for it
            log.warning("could not write the widget session %s: %s", self.path, error)
            with contextlib.suppress(OSError):
                tmp.unlink()
            return False
        self._written = records
        return True
