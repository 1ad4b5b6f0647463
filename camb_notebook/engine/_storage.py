"""Where task folders live: the engine's own disk, or a URL every worker can reach.

Each task has ``<base>/<task_id>/in/`` (the upload) and ``<base>/<task_id>/out/`` (the
stems). The base is a local folder by default; with ``--storage URL`` it is any fsspec
location — a shared path such as NFS (``/mnt/shared/engine`` or ``file:///…``), or an
object store (``s3://bucket/engine``, ``gs://…``) — so Dask workers on other machines
read uploads and write stems there. Local bases are handed to workers as plain paths;
others as URLs, which :mod:`._remote` copies in and out around a job.

The server serves stems from a local file (``Range`` and format conversion need one):
from an object store a stem is copied once into the engine's cache folder.

Examples
--------
>>> import tempfile
>>> storage = Storage(None, Path(tempfile.mkdtemp()))
>>> storage.local, storage.url("t1", "out").endswith("t1/out")
(True, True)
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from pathlib import Path
from typing import Any

from .._exceptions import ConfigurationError

__all__ = ["Storage"]


class Storage:
    """Task folders on local disk or behind an fsspec URL.

    Parameters
    ----------
    url : str or None
        The ``--storage`` location; None = *local_root*.
    local_root : Path
        The engine's own folder: the default base, and the cache of remote stems.
    """

    def __init__(self, url: str | None, local_root: Path) -> None:
        self.local_root = local_root
        self._fs: Any = None
        self._lock = threading.Lock()
        if url is None:
            self.local, self.base = True, str(local_root)
            return
        if "://" not in url:
            self.local, self.base = True, str(Path(url).expanduser().resolve())
        else:
            try:
                import fsspec
            except ImportError:  # pragma: no cover - fsspec comes with the dask extra
                raise ConfigurationError(
                    f"storage={url!r} needs fsspec: pip install 'camb_notebook[dask]'",
                    setting="storage",
                    value=url,
                ) from None
            try:
                fs, path = fsspec.core.url_to_fs(url)
            except (ImportError, ValueError) as exc:
                raise ConfigurationError(
                    f"storage={url!r} cannot be opened ({exc}); install the fsspec backend for "
                    "its protocol (e.g. s3fs for s3://, gcsfs for gs://) or use a shared path",
                    setting="storage",
                    value=url,
                ) from exc
            from fsspec.implementations.local import LocalFileSystem

            if isinstance(fs, LocalFileSystem):
                self.local, self.base = True, str(Path(path).resolve())
            else:
                self.local, self._fs = False, fs
                self.base = fs.unstrip_protocol(path.rstrip("/"))
        if self.local:
            Path(self.base).mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"Storage({self.base!r})"

    def url(self, task_id: str, *parts: str) -> str:
        """Where *parts* of a task live: a path for local storage, else a URL."""
        return "/".join([self.base.rstrip("/"), task_id, *parts])

    def task_dir(self, task_id: str) -> Path:
        """A task's local folder (local storage only)."""
        assert self.local
        return Path(self.base) / task_id

    def store_upload(self, staged: Path, task_id: str) -> str:
        """Move the staged upload into the task's ``in/`` folder; return where it is now."""
        target = self.url(task_id, "in", staged.name)
        if self.local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(staged), target)  # a rename on one disk, a copy across disks
        else:
            self._fs.put_file(str(staged), target)
            staged.unlink(missing_ok=True)
        return target

    def exists(self, location: str) -> bool:
        """Whether *location* (from :meth:`url` or :meth:`store_upload`) is there."""
        if self.local:
            return Path(location).exists()
        return bool(self._fs.exists(location))

    def local_stem(self, task_id: str, name: str) -> Path:
        """A local file of a stored stem (for remote storage, copied once into the cache)."""
        if self.local:
            return Path(self.url(task_id, "out", name))
        cached = self.local_root / "cache" / task_id / name
        if not cached.exists():
            with self._lock:
                if not cached.exists():
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    part = cached.with_name(cached.name + ".part")
                    self._fs.get_file(self.url(task_id, "out", name), str(part))
                    part.replace(cached)
        return cached

    def remove_input(self, task_id: str) -> None:
        """Delete a task's upload (its job is over)."""
        self._remove(self.url(task_id, "in"))

    def remove(self, task_id: str) -> None:
        """Delete everything of a task (it expired, or was never accepted)."""
        self._remove(self.url(task_id))
        shutil.rmtree(self.local_root / "cache" / task_id, ignore_errors=True)

    def _remove(self, location: str) -> None:
        if self.local:
            shutil.rmtree(location, ignore_errors=True)
            return
        with contextlib.suppress(FileNotFoundError):
            self._fs.rm(location, recursive=True)
