"""What gets uploaded: one source (path, bytes or file object) streamed as a multipart body.

The body is produced chunk by chunk from disk, so a 1 GB file never sits in memory, and it
can be rebuilt for every attempt (fields included, file rewound) when a retry is safe.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import httpx

from .._exceptions import InputError

__all__ = ["CHUNK_SIZE", "MultipartBody", "UploadProgress", "UploadSource"]

CHUNK_SIZE = 256 * 1024
_HASH_CHUNK = 1 << 20

#: Called with (bytes sent, bytes in total) while a body goes out.
UploadProgress = Callable[[int, int], None]


def _sniff(head: bytes) -> tuple[str | None, str]:
    """The format of an upload from its first bytes, and the MIME type to send it with."""
    from ..audio import mime_type, sniff_format

    fmt = sniff_format(head)
    return fmt, mime_type(fmt)


class UploadSource:
    """A file to upload, readable from its start as often as a retry needs.

    Parameters
    ----------
    source : str, os.PathLike, bytes or binary file object
        A path is read lazily from disk. A seekable file object is rewound to where it stood; a
        non-seekable one (a pipe, a socket) is first spooled to a temporary file on disk.
    filename : str, optional
        Name sent to the service; defaults to the path's or file object's name, else
        ``upload.<format>``.

    Examples
    --------
    >>> src = UploadSource(b"RIFF\\x00\\x00\\x00\\x00WAVE", filename="x.wav")
    >>> src.size, src.content_type
    (12, 'audio/wav')
    """

    def __init__(
        self, source: str | os.PathLike[str] | bytes | BinaryIO, filename: str | None = None
    ) -> None:
        self._path: Path | None = None
        self._data: bytes | None = None
        self._fobj: BinaryIO | None = None
        self._start = 0
        self._owned: BinaryIO | None = None
        self._hash: str | None = None
        name: str | None = None
        if isinstance(source, (str, os.PathLike)):
            self._path = Path(source)
            if not self._path.is_file():
                raise InputError(
                    f"{self._path}: no such file; pass the path of an audio file", path=self._path
                )
            self.size = self._path.stat().st_size
            name = self._path.name
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self._data = bytes(source)
            self.size = len(self._data)
        elif hasattr(source, "read"):
            raw_name = getattr(source, "name", None)
            if isinstance(raw_name, str):
                name = os.path.basename(raw_name)
            if _seekable(source):
                self._fobj = source
                self._start = source.tell()
                self.size = source.seek(0, io.SEEK_END) - self._start
                source.seek(self._start)
            else:
                spool = tempfile.TemporaryFile()  # noqa: SIM115 - kept until close()
                shutil.copyfileobj(source, spool, _HASH_CHUNK)
                self._fobj = self._owned = spool
                self.size = spool.tell()
                spool.seek(0)
        else:
            raise InputError(
                f"source={source!r:.80}: expected a path, bytes or a binary file object",
                parameter="source",
                value=type(source).__name__,
            )
        if self.size == 0:
            raise InputError(f"{name or 'the upload'} is empty (0 bytes); nothing to separate")
        with self.open() as f:
            head = f.read(1 << 16)
        self.format, self.content_type = _sniff(head)
        ext = f".{self.format}" if self.format else ""
        self.filename = filename or name or f"upload{ext}"

    def open(self) -> BinaryIO:
        """Return a reader positioned at the start of the upload (close it when done)."""
        if self._path is not None:
            return open(self._path, "rb")
        if self._data is not None:
            return io.BytesIO(self._data)
        assert self._fobj is not None
        self._fobj.seek(self._start)
        return _Borrowed(self._fobj)  # type: ignore[return-value]

    @property
    def path(self) -> Path | None:
        """The file on disk, when the source was a path."""
        return self._path

    @property
    def content_hash(self) -> str:
        """SHA-256 of the bytes (hex), computed once by streaming through the file."""
        if self._hash is None:
            digest = hashlib.sha256()
            with self.open() as f:
                while chunk := f.read(_HASH_CHUNK):
                    digest.update(chunk)
            self._hash = digest.hexdigest()
        return self._hash

    def close(self) -> None:
        """Drop the temporary spool file, if one was made."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __repr__(self) -> str:
        return f"UploadSource(filename={self.filename!r}, size={self.size})"


def _seekable(f: object) -> bool:
    try:
        return bool(f.seekable())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


class _Borrowed:
    """A caller's file object used as a context manager without closing it."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f

    def read(self, n: int = -1) -> bytes:
        return self._f.read(n)

    def __enter__(self) -> _Borrowed:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None


def _quote(value: str) -> str:
    # As browsers (and httpx) do for Content-Disposition parameters.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MultipartBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A ``multipart/form-data`` body of text fields and one file, streamed in chunks.

    It records how far it got: :attr:`complete` turns true once the transport has taken the
    very last byte, which is what decides whether a failed upload may be retried.

    Parameters
    ----------
    fields : list of (name, value)
        Text fields, sent before the file.
    file_field : str
        Name of the file field (``media_file`` for CAMB.AI).
    source : UploadSource
    on_upload : callable(sent, total), optional

    Examples
    --------
    >>> body = MultipartBody([("project_name", "demo")], "media_file", UploadSource(b"abc"))
    >>> len(b"".join(body)) == body.content_length
    True
    """

    def __init__(
        self,
        fields: list[tuple[str, str]],
        file_field: str,
        source: UploadSource,
        on_upload: UploadProgress | None = None,
    ) -> None:
        self.boundary = os.urandom(16).hex()
        dash = f"--{self.boundary}\r\n"
        parts = [
            f'{dash}Content-Disposition: form-data; name="{_quote(k)}"\r\n\r\n{v}\r\n'
            for k, v in fields
        ]
        parts.append(
            f'{dash}Content-Disposition: form-data; name="{_quote(file_field)}"; '
            f'filename="{_quote(source.filename)}"\r\nContent-Type: {source.content_type}\r\n\r\n'
        )
        self._prelude = "".join(parts).encode("utf-8")
        self._epilogue = f"\r\n--{self.boundary}--\r\n".encode("ascii")
        self._source = source
        self._on_upload = on_upload
        self.content_length = len(self._prelude) + source.size + len(self._epilogue)
        self.bytes_sent = 0
        self.complete = False

    @property
    def headers(self) -> dict[str, str]:
        """``Content-Type`` (with the boundary) and ``Content-Length`` for this body."""
        return {
            "Content-Type": f"multipart/form-data; boundary={self.boundary}",
            "Content-Length": str(self.content_length),
        }

    def _chunks(self, f: BinaryIO) -> Iterator[bytes]:
        yield self._prelude
        left = self._source.size
        while left > 0:
            chunk = f.read(min(CHUNK_SIZE, left))
            if not chunk:
                raise InputError(
                    f"{self._source.filename} shrank by {left} bytes while it was being "
                    "uploaded; wait until the file is completely written, then submit again"
                )
            left -= len(chunk)
            yield chunk
        yield self._epilogue

    def _sent(self, n: int) -> None:
        self.bytes_sent += n
        if self._on_upload is not None:
            self._on_upload(self.bytes_sent, self.content_length)

    def __iter__(self) -> Iterator[bytes]:
        with self._source.open() as f:
            for chunk in self._chunks(f):
                yield chunk
                self._sent(len(chunk))  # reached only when the transport asks for more
        self.complete = True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # Opening the file may wait on the disk: a worker thread does it. Each read after that
        # is one CHUNK_SIZE block, short next to the network send it feeds; they stay inline
        # (a thread hop per block would cost about as much), as do the download's writes.
        f = await asyncio.to_thread(self._source.open)
        try:
            for chunk in self._chunks(f):
                yield chunk
                self._sent(len(chunk))
        finally:
            f.close()
        self.complete = True
