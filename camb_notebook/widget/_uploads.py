"""Receive a browser upload in chunks and write it to a temporary file in the kernel.

The kernel's websocket refuses messages over ~10 MB, so the browser sends files
in chunks of :data:`CHUNK_BYTES` as binary buffers of custom messages. Each chunk
carries its offset; the receiver accepts only the next expected offset, so a
duplicated or re-ordered chunk is caught instead of silently corrupting the file.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .._exceptions import InputError, LimitExceededError

__all__ = [
    "CHUNK_BYTES",
    "KEEP_SECONDS",
    "MAX_UPLOAD_BYTES",
    "Upload",
    "UploadReceiver",
    "safe_name",
]

#: Chunk size the browser uses: far below the ~10 MB websocket message cap.
CHUNK_BYTES = 1 << 20
#: Largest file accepted from the browser (the service's own limits apply after).
MAX_UPLOAD_BYTES = 2 << 30
#: How long uploads stay in a shared folder. Results outlive them: reuse needs only the stems.
KEEP_SECONDS = 7 * 24 * 3600.0


def safe_name(name: str) -> str:
    """A file name safe to create on any OS, keeping the extension.

    Examples
    --------
    >>> safe_name("../my song?.mp3")
    'my_song_.mp3'
    """
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .").replace(" ", "_")
    return base[:120] or "upload"


@dataclass
class Upload:
    """One file being received: where it goes and how much has arrived."""

    upload_id: str
    name: str
    size: int
    path: Path
    received: int = 0
    _file: BinaryIO | None = field(default=None, repr=False)

    @property
    def fraction(self) -> float:
        """Share received, 0..1 (1 for an empty file)."""
        return self.received / self.size if self.size else 1.0


class UploadReceiver:
    """Write chunked uploads to files under one temporary folder.

    Parameters
    ----------
    directory : path, optional
        Parent folder; default a fresh temporary folder removed by :meth:`close`.
    max_bytes : int
        Largest accepted upload.
    keep_seconds : float
        In a given (shared) folder, uploads older than this are removed on start-up.

    Examples
    --------
    >>> rx = UploadReceiver()
    >>> up = rx.start("u1", "a.wav", 3)
    >>> rx.chunk("u1", 0, b"abc")
    3
    >>> rx.finish("u1").read_bytes()
    b'abc'
    >>> rx.close()
    """

    def __init__(
        self,
        directory: str | Path | None = None,
        max_bytes: int = MAX_UPLOAD_BYTES,
        keep_seconds: float = KEEP_SECONDS,
    ):
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="camb-uploads-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._uploads: dict[str, Upload] = {}
        if not self._own_dir:
            self.sweep(keep_seconds)

    def sweep(self, older_than: float) -> int:
        """Remove upload folders untouched for ``older_than`` seconds; returns how many."""
        cutoff = time.time() - older_than
        removed = 0
        for folder in self.directory.iterdir():
            try:
                if folder.is_dir() and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder)
                    removed += 1
            except OSError:  # another kernel is sweeping or writing it: leave it
                continue
        return removed

    def start(self, upload_id: str, name: str, size: int) -> Upload:
        """Open a new upload of ``size`` bytes; raises when it is too large."""
        if upload_id in self._uploads:
            raise InputError(
                f"upload {upload_id!r} already started", parameter="upload_id", value=upload_id
            )
        if not isinstance(size, int) or size < 0:
            raise InputError(
                f"{name}: size={size!r} must be a byte count >= 0", parameter="size", value=size
            )
        if size > self.max_bytes:
            raise LimitExceededError(
                f"{name}: {size / 1e6:.1f} MB is larger than the {self.max_bytes / 1e6:.0f} MB "
                "upload limit; copy the file to the kernel's disk and use w.add_file(path)",
                actual=size,
                limit=self.max_bytes,
            )
        folder = self.directory / re.sub(r"[^\w\-]", "_", upload_id)[:64]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / safe_name(name)
        upload = Upload(upload_id, name, size, path, _file=path.open("wb"))
        self._uploads[upload_id] = upload
        return upload

    def get(self, upload_id: str) -> Upload:
        try:
            return self._uploads[upload_id]
        except KeyError:
            raise InputError(
                f"upload {upload_id!r} is unknown (finished, aborted or never started)",
                parameter="upload_id",
                value=upload_id,
            ) from None

    def chunk(self, upload_id: str, offset: int, data: bytes | memoryview) -> int:
        """Append ``data`` at ``offset``; returns the bytes received so far."""
        upload = self.get(upload_id)
        if offset != upload.received:
            raise InputError(
                f"{upload.name}: chunk at byte {offset} but {upload.received} bytes have "
                "arrived; the upload was interrupted, add the file again",
                parameter="offset",
                value=offset,
            )
        if upload.received + len(data) > upload.size:
            raise InputError(
                f"{upload.name}: more data than the announced {upload.size} bytes",
                parameter="size",
                value=upload.size,
            )
        assert upload._file is not None
        upload._file.write(data)
        upload.received += len(data)
        return upload.received

    def finish(self, upload_id: str) -> Path:
        """Close a complete upload and return its file."""
        upload = self.get(upload_id)
        if upload.received != upload.size:
            self.abort(upload_id)
            raise InputError(
                f"{upload.name}: only {upload.received} of {upload.size} bytes arrived; "
                "add the file again",
                parameter="size",
                value=upload.size,
            )
        assert upload._file is not None
        upload._file.close()
        del self._uploads[upload_id]
        return upload.path

    def abort(self, upload_id: str) -> None:
        """Drop an unfinished upload and its partial file (no error if unknown)."""
        upload = self._uploads.pop(upload_id, None)
        if upload is None:
            return
        if upload._file is not None:
            upload._file.close()
        shutil.rmtree(upload.path.parent, ignore_errors=True)

    def close(self) -> None:
        """Abort unfinished uploads; remove the folder if this receiver created it."""
        for upload_id in list(self._uploads):
            self.abort(upload_id)
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)
