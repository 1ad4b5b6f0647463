"""Read a multipart upload as it streams in, straight to disk, with a size limit.

Starlette's ``request.form()`` reads the whole body before the endpoint sees it;
here the file part is written chunk by chunk and the reading stops as soon as the
file passes ``max_bytes``, so an oversized upload never lands on disk whole.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header

__all__ = ["FILE_FIELDS", "Upload", "UploadError", "read_upload"]

#: The cloud's file field, and the older docs' name for it.
FILE_FIELDS = ("media_file", "audio_file")
_MAX_FIELD_BYTES = 64 * 1024
_MAX_FIELDS = 64
_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


class UploadError(Exception):
    """The body is not a readable multipart form; ``loc`` points at the culprit."""

    def __init__(self, message: str, loc: tuple[str, ...] = ("body",)) -> None:
        super().__init__(message)
        self.loc = loc


@dataclass
class Upload:
    """What arrived: the text fields, and the first file part on disk."""

    fields: dict[str, str] = field(default_factory=dict)
    file_field: str | None = None
    filename: str | None = None
    path: Path | None = None
    size: int = 0
    too_large: bool = False


def safe_suffix(filename: str | None) -> str:
    """The file name's extension if it is short and plain (e.g. ``.mp3``), else ``""``.

    Only the extension is kept: the stored name never comes from the client.

    Examples
    --------
    >>> safe_suffix("../../etc/song.MP3"), safe_suffix("x.tar/../y"), safe_suffix(None)
    ('.mp3', '', '')
    """
    if not filename:
        return ""
    suffix = Path(filename.replace("\\", "/")).suffix
    return suffix.lower() if _SAFE_SUFFIX.match(suffix) else ""


async def read_upload(
    content_type: str | None,
    stream: AsyncIterator[bytes],
    dest_dir: Path,
    max_bytes: int,
) -> Upload:
    """Parse a ``multipart/form-data`` body from *stream* into *dest_dir*.

    The first part named ``media_file`` or ``audio_file`` is stored as
    ``dest_dir/input<suffix>``; other file parts are skipped. Reading stops once the
    file exceeds *max_bytes* (``Upload.too_large``; the partial file is deleted).

    Raises
    ------
    UploadError
        Not multipart, no boundary, malformed parts, or oversized text fields.
    """
    upload = Upload()
    ctype, params = parse_options_header(content_type or "")
    if ctype != b"multipart/form-data":
        return upload  # no form at all: the caller reports the missing file field
    boundary = params.get(b"boundary")
    if not boundary:
        raise UploadError("multipart body without a boundary in Content-Type")

    state: dict[str, object] = {"name": None, "kind": None, "buf": bytearray()}
    header_field, header_value = bytearray(), bytearray()
    headers: dict[bytes, bytes] = {}
    out: list[IO[bytes]] = []

    class _Stop(Exception):
        pass

    def on_part_begin() -> None:
        headers.clear()
        state.update(name=None, kind=None, buf=bytearray())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        raw_name = options.get(b"name")
        if raw_name is None:
            raise UploadError("a multipart part has no name in its Content-Disposition header")
        name = raw_name.decode("utf-8", "replace")
        state["name"] = name
        if name in FILE_FIELDS and upload.file_field is None:
            filename = options.get(b"filename")
            upload.file_field = name
            upload.filename = None if filename is None else filename.decode("utf-8", "replace")
            upload.path = dest_dir / f"input{safe_suffix(upload.filename)}"
            dest_dir.mkdir(parents=True, exist_ok=True)
            out.append(upload.path.open("wb"))
            state["kind"] = "file"
        elif b"filename" in options or name in FILE_FIELDS:
            state["kind"] = "skip"
        else:
            if len(upload.fields) >= _MAX_FIELDS:
                raise UploadError(f"more than {_MAX_FIELDS} form fields")
            state["kind"] = "field"

    def on_part_data(data: bytes, start: int, end: int) -> None:
        kind = state["kind"]
        if kind == "file":
            chunk = data[start:end]
            upload.size += len(chunk)
            if upload.size > max_bytes:
                upload.too_large = True
                raise _Stop
            out[-1].write(chunk)
        elif kind == "field":
            buf = state["buf"]
            assert isinstance(buf, bytearray)
            if len(buf) + (end - start) > _MAX_FIELD_BYTES:
                raise UploadError(
                    f"form field {state['name']!r} is longer than {_MAX_FIELD_BYTES} bytes",
                    ("body", str(state["name"])),
                )
            buf.extend(data[start:end])

    def on_part_end() -> None:
        if state["kind"] == "field":
            buf = state["buf"]
            assert isinstance(buf, bytearray)
            upload.fields.setdefault(str(state["name"]), buf.decode("utf-8", "replace"))
        elif state["kind"] == "file" and out:
            out[-1].close()
        state["kind"] = None

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    try:
        async for chunk in stream:
            parser.write(chunk)
        parser.finalize()
    except _Stop:
        pass
    except UploadError:
        _discard(out, upload)
        raise
    except Exception as exc:  # python-multipart's own parse errors
        _discard(out, upload)
        raise UploadError(f"malformed multipart body: {exc}") from exc
    finally:
        for f in out:
            f.close()
    if upload.too_large and upload.path is not None:
        upload.path.unlink(missing_ok=True)
    return upload


def _discard(out: list[IO[bytes]], upload: Upload) -> None:
    for f in out:
        f.close()
    if upload.path is not None:
        upload.path.unlink(missing_ok=True)
