"""Write one downloaded stem to disk as it arrives, named after the format its bytes show.

The file work of a download lives here; the clients call it (the core only creates sinks).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from .._exceptions import CancelledError

__all__ = ["StemSink", "copy_into"]

log = logging.getLogger("camb_notebook.api")

_SNIFF_BYTES = 1 << 16


class StemSink:
    """One download attempt's file: bytes go into ``<out_dir>/.<name>.part``, renamed at the end.

    The extension comes from the content (magic bytes), falling back to the URL's suffix, so a
    FLAC served as ``.../stem?sig=...`` is saved as ``foreground.flac``. The rename is atomic:
    a half-downloaded stem never carries the final name.

    Parameters
    ----------
    out_dir : Path
    name : str
        ``"foreground"`` or ``"background"``.
    url : str
        Only used for the fallback extension.
    cancel : Event-like, optional
        Checked between chunks.

    Notes
    -----
    A sink serves one attempt: ``begin``, ``write`` per chunk, then ``finish`` — or ``abort``,
    after which it does nothing more (a retry gets a new sink). The async client runs
    ``begin``, ``finish`` and ``abort`` in worker threads, and a cancelled download may call
    ``abort`` before or during its ``begin``: a lock and the closed state make them take turns,
    so no file is left behind.
    """

    def __init__(self, out_dir: Path, name: str, url: str, cancel: Any = None) -> None:
        self.out_dir = Path(out_dir)
        self.name = name
        self.url = url
        self.cancel = cancel
        self.part = self.out_dir / f".{name}.part"
        self.path: Path | None = None
        self.bytes_written = 0
        self._file: BinaryIO | None = None
        self._head = b""
        self._lock = threading.Lock()
        self._closed = False

    def begin(self) -> None:
        """Start with an empty file (none if the sink was already aborted)."""
        with self._lock:
            if self._closed:
                return
            self._drop()  # a part file left by an earlier attempt
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._file = open(self.part, "wb")  # noqa: SIM115 - closed in finish/abort
            self.bytes_written = 0
            self._head = b""

    def write(self, chunk: bytes) -> None:
        """Append *chunk*; raises CancelledError when the caller cancelled."""
        if self.cancel is not None and self.cancel.is_set():
            raise CancelledError(
                f"download of the {self.name} stem was cancelled after {self.bytes_written} bytes"
            )
        assert self._file is not None, "begin() first"
        if len(self._head) < _SNIFF_BYTES:
            self._head += chunk[: _SNIFF_BYTES - len(self._head)]
        self._file.write(chunk)
        self.bytes_written += len(chunk)

    def finish(self) -> Path:
        """Close, name the file after its format, and return the final path."""
        with self._lock:
            return self._finish()

    def _finish(self) -> Path:
        assert self._file is not None, "begin() first"
        self._closed = True
        self._file.close()
        self._file = None
        from ..audio import EXTENSIONS, sniff_format

        fmt = sniff_format(self._head)  # every format name is also its usual extension
        if fmt is not None:
            ext = f".{fmt}"
        else:
            suffix = PurePosixPath(urlsplit(self.url).path).suffix.lower()
            ext = suffix if suffix in EXTENSIONS else ".bin"
            log.warning(
                "%s stem: format not recognised from its first bytes %r; saved as %s",
                self.name,
                self._head[:16],
                ext,
            )
        self.path = self.out_dir / f"{self.name}{ext}"
        os.replace(self.part, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file and close the sink (nothing to do once finished)."""
        with self._lock:
            if self.path is None:
                self._drop()
            self._closed = True

    def _drop(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.part.unlink(missing_ok=True)


def copy_into(path: Path, out_dir: Path) -> Path:
    """Copy *path* into *out_dir* (made if needed) under its own name; return the copy.

    Nothing is copied when *path* already is in *out_dir*.

    Examples
    --------
    >>> import tempfile
    >>> src = Path(tempfile.mkdtemp()) / "foreground.flac"
    >>> _ = src.write_bytes(b"fLaC")
    >>> copy_into(src, src.parent / "out").read_bytes()
    b'fLaC'
    """
    target = out_dir / path.name
    if target.resolve() != path.resolve():
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return target
