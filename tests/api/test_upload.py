"""The upload body: streamed from disk, rebuilt identically for a retry, flat in memory."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tracemalloc
from pathlib import Path

import pytest
from python_multipart import parse_form

from camb_notebook import InputError
from camb_notebook.api import Client, TaskStore
from camb_notebook.api._upload import CHUNK_SIZE, MultipartBody, UploadSource
from tests.emulator import Receiver


def sparse_wav(path: Path, size: int) -> Path:
    """A WAV header followed by *size* bytes of (sparse, unwritten) silence."""
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt ")
        f.write(struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16))
        f.write(b"data" + struct.pack("<I", size))
        f.truncate(44 + size)
    return path


def parse(body: MultipartBody) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    data = b"".join(body)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}

    def on_file(f: object) -> None:
        fo = f.file_object  # type: ignore[attr-defined]
        fo.seek(0)
        files[f.field_name.decode()] = (f.file_name.decode(), fo.read())  # type: ignore[attr-defined]

    parse_form(
        {"Content-Type": body.headers["Content-Type"].encode()},
        io.BytesIO(data),
        lambda f: fields.__setitem__(f.field_name.decode(), f.value.decode()),
        on_file,
    )
    assert len(data) == body.content_length == int(body.headers["Content-Length"])
    return fields, files


def test_body_is_valid_multipart_with_fields_first(tmp_path: Path) -> None:
    path = tmp_path / 'we"ird name.wav'
    sparse_wav(path, 1000)
    source = UploadSource(path)
    body = MultipartBody([("project_name", "é demo"), ("folder_id", "3")], "media_file", source)
    fields, files = parse(body)
    assert fields == {"project_name": "é demo", "folder_id": "3"}
    name, content = files["media_file"]
    assert content == path.read_bytes() and name == "we%22ird name.wav"
    assert source.content_type == "audio/wav"


def test_body_can_be_rebuilt_for_a_retry(tmp_path: Path) -> None:
    source = UploadSource(sparse_wav(tmp_path / "a.wav", 3 * CHUNK_SIZE + 5))
    first = MultipartBody([("project_name", "p")], "media_file", source)
    again = MultipartBody([("project_name", "p")], "media_file", source)
    assert parse(first) == parse(again)  # fields and file survive the retry


def test_complete_only_after_the_last_byte(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    source = UploadSource(b"x" * (2 * CHUNK_SIZE))
    body = MultipartBody([], "media_file", source, lambda sent, total: seen.append((sent, total)))
    chunks = iter(body)
    next(chunks)
    next(chunks)
    assert not body.complete and 0 < body.bytes_sent < body.content_length
    for _ in chunks:
        pass
    assert body.complete and body.bytes_sent == body.content_length
    assert seen[-1] == (body.content_length, body.content_length)


def test_sources(tmp_path: Path) -> None:
    data = sparse_wav(tmp_path / "s.wav", 5000).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert UploadSource(data).content_hash == digest
    assert UploadSource(tmp_path / "s.wav").content_hash == digest
    f = io.BytesIO(b"prefix" + data)
    f.seek(6)
    src = UploadSource(f)
    assert src.size == len(data) and src.content_hash == digest
    with src.open() as reader:  # each attempt reads from where the caller's object stood
        assert reader.read() == data
    r, w = os.pipe()
    with os.fdopen(w, "wb") as wf:
        wf.write(data)
    with os.fdopen(r, "rb") as rf:
        piped = UploadSource(rf)  # not seekable: spooled to disk once
    assert piped.size == len(data) and piped.content_hash == digest
    assert piped.filename == "upload.wav"
    piped.close()


def test_file_that_shrinks_during_upload(tmp_path: Path) -> None:
    path = sparse_wav(tmp_path / "grow.wav", 4 * CHUNK_SIZE)
    body = MultipartBody([], "media_file", UploadSource(path))
    chunks = iter(body)
    next(chunks)
    with open(path, "r+b") as f:
        f.truncate(100)
    with pytest.raises(InputError, match="shrank"):
        list(chunks)


def test_upload_memory_stays_flat(tmp_path: Path, store: TaskStore) -> None:
    size = 64 << 20
    path = sparse_wav(tmp_path / "big.wav", size)
    with Receiver() as receiver, Client("k-123456", receiver.base_url, store=store) as client:
        client.submit(sparse_wav(tmp_path / "warm-up.wav", 1000))  # imports, pools, store
        tracemalloc.start()
        try:
            task = client.submit(path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert receiver.bytes_received > size and task.task_id == "recv-2"
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB while uploading {size >> 20} MiB"
