"""The streaming multipart reader on its own: what it stores, keeps, skips and refuses.

Bodies are built by httpx (as a client sends them) or by hand (what a client should not send)
and fed in chunks; end to end through the server in test_validation.py and test_submit.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from camb_notebook.engine._upload import Upload, UploadError, read_upload, safe_suffix

AUDIO = b"RIFF" + bytes(range(256)) * 40  # 10 KiB standing in for a file


def _form(files: Any = None, data: Any = None) -> tuple[str, bytes]:
    request = httpx.Request("POST", "http://engine.test/", files=files, data=data)
    return request.headers["content-type"], request.read()


def _raw(*parts: bytes) -> tuple[str, bytes]:
    """A multipart body from raw parts (headers, blank line, data)."""
    body = b"".join(b"--b0undary\r\n" + p + b"\r\n" for p in parts) + b"--b0undary--\r\n"
    return "multipart/form-data; boundary=b0undary", body


def _fields(*pairs: tuple[str, str]) -> tuple[str, bytes]:
    """A multipart body of text fields only (httpx would send those url-encoded)."""
    return _raw(
        *(
            f'Content-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v.encode()
            for k, v in pairs
        )
    )


async def _chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def read(
    content_type: str | None, body: bytes, dest: Path, max_bytes: int = 1 << 20, chunk: int = 7
) -> Upload:
    """Read *body* arriving in *chunk*-byte pieces (small: parts straddle every boundary)."""
    return asyncio.run(read_upload(content_type, _chunks(body, chunk), dest, max_bytes))


def test_the_file_goes_to_disk_and_the_fields_are_kept(tmp_path: Path) -> None:
    ctype, body = _form(
        files={"media_file": ("Song.MP3", AUDIO, "audio/mpeg")},
        data={"project_name": "demo", "folder_id": "3", "note": "héllo"},
    )
    upload = read(ctype, body, tmp_path / "in")
    assert upload.fields == {"project_name": "demo", "folder_id": "3", "note": "héllo"}
    assert (upload.file_field, upload.filename) == ("media_file", "Song.MP3")
    assert upload.path == tmp_path / "in" / "input.mp3"  # never the client's name
    assert upload.path.read_bytes() == AUDIO and upload.size == len(AUDIO)
    assert not upload.too_large
    assert read(ctype, body, tmp_path / "whole", chunk=len(body)).fields == upload.fields


def test_the_older_field_name_and_only_the_first_file(tmp_path: Path) -> None:
    ctype, body = _form(
        files=[
            ("audio_file", ("a.flac", b"fLaC-first", "audio/flac")),
            ("media_file", ("b.wav", b"RIFF-second", "audio/wav")),  # a second file: skipped
            ("cover", ("c.png", b"PNG", "image/png")),  # not a file field: skipped
        ]
    )
    upload = read(ctype, body, tmp_path)
    assert upload.file_field == "audio_file" and upload.filename == "a.flac"
    assert upload.path == tmp_path / "input.flac" and upload.path.read_bytes() == b"fLaC-first"
    assert upload.size == len(b"fLaC-first") and upload.fields == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.flac"]


def test_a_file_field_sent_without_a_filename_is_still_the_file(tmp_path: Path) -> None:
    ctype, body = _fields(("media_file", "not really audio"))
    upload = read(ctype, body, tmp_path)
    assert upload.file_field == "media_file" and upload.filename is None
    assert upload.path == tmp_path / "input" and upload.path.read_bytes() == b"not really audio"
    assert upload.fields == {}


def test_a_repeated_field_keeps_its_first_value(tmp_path: Path) -> None:
    ctype, body = _fields(("method", "repet"), ("method", "spleeter"))
    assert read(ctype, body, tmp_path).fields == {"method": "repet"}


@pytest.mark.parametrize("ctype", [None, "", "application/json", "text/plain; charset=utf-8"])
def test_no_form_at_all_reads_nothing(tmp_path: Path, ctype: str | None) -> None:
    upload = read(ctype, b'{"media_file": "x"}', tmp_path / "in")
    assert upload == Upload() and not (tmp_path / "in").exists()


def test_a_multipart_body_needs_a_boundary(tmp_path: Path) -> None:
    with pytest.raises(UploadError, match=r"^multipart body without a boundary in Content-Type$"):
        read("multipart/form-data", b"--x\r\n", tmp_path)


@pytest.mark.parametrize("extra", [0, 1])
def test_a_file_past_max_bytes_is_cut_off_and_deleted(tmp_path: Path, extra: int) -> None:
    ctype, body = _form(files={"media_file": ("big.wav", AUDIO)}, data={"method": "repet"})
    limit = len(AUDIO) - extra
    upload = read(ctype, body, tmp_path, max_bytes=limit)
    if extra == 0:  # exactly at the limit: accepted
        assert not upload.too_large and upload.path.read_bytes() == AUDIO
    else:
        assert upload.too_large and upload.size > limit
        assert not upload.path.exists() and list(tmp_path.iterdir()) == []


def test_a_long_text_field_is_refused_naming_it(tmp_path: Path) -> None:
    limit = 64 * 1024
    ctype, body = _fields(("project_name", "x" * limit))
    assert read(ctype, body, tmp_path, chunk=4096).fields["project_name"] == "x" * limit
    ctype, body = _fields(("project_name", "x" * (limit + 1)))
    with pytest.raises(UploadError) as err:
        read(ctype, body, tmp_path, chunk=4096)
    assert str(err.value) == "form field 'project_name' is longer than 65536 bytes"
    assert err.value.loc == ("body", "project_name")


def test_too_many_fields_are_refused(tmp_path: Path) -> None:
    ctype, body = _fields(*((f"f{i}", "v") for i in range(64)))
    assert len(read(ctype, body, tmp_path, chunk=512).fields) == 64
    ctype, body = _form(
        files={"media_file": ("a.wav", AUDIO)}, data={f"f{i}": "v" for i in range(65)}
    )
    with pytest.raises(UploadError, match=r"^more than 64 form fields$") as err:
        read(ctype, body, tmp_path / "in", chunk=512)
    assert err.value.loc == ("body",)


def test_a_part_without_a_name_is_refused(tmp_path: Path) -> None:
    ctype, body = _raw(b'Content-Disposition: form-data; filename="a.wav"\r\n\r\nRIFF')
    with pytest.raises(UploadError, match=r"^a multipart part has no name in its Content-Disp"):
        read(ctype, body, tmp_path)


def test_a_broken_body_leaves_no_file(tmp_path: Path) -> None:
    ctype, body = _raw(
        b'Content-Disposition: form-data; name="media_file"; filename="a.wav"\r\n\r\n' + AUDIO
    )
    # The file part has begun (input.wav is open) when a part with a broken header follows.
    broken = body.removesuffix(b"--b0undary--\r\n") + b"--b0undary\r\n\x00bad\r\n\r\n"
    with pytest.raises(UploadError, match=r"^malformed multipart body: .*invalid character"):
        read(ctype, broken, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_field_names_and_values_that_are_not_utf8(tmp_path: Path) -> None:
    ctype, body = _raw(b'Content-Disposition: form-data; name="project_name"\r\n\r\nna\xefve')
    assert read(ctype, body, tmp_path).fields == {"project_name": "na\ufffdve"}


def test_part_and_file_names_that_are_not_utf8_into_a_new_folder(tmp_path: Path) -> None:
    ctype, body = _raw(
        b'Content-Disposition: form-data; name="media_file"; filename="caf\xe9.wav"\r\n\r\n'
        + AUDIO,
        b'Content-Disposition: form-data; name="n\xefte"\r\n\r\nv',
    )
    dest = tmp_path / "not" / "yet"  # created with its parents
    upload = read(ctype, body, dest)
    assert (upload.filename, upload.fields) == ("caf\ufffd.wav", {"n\ufffdte": "v"})
    assert upload.path == dest / "input.wav"
    assert upload.path.read_bytes() == AUDIO


def test_a_field_at_the_limit_after_another_is_kept(tmp_path: Path) -> None:
    """In one chunk the second field starts deep inside it: only its own bytes count."""
    limit = 64 * 1024
    ctype, body = _fields(("note", "first"), ("project_name", "x" * limit))
    fields = read(ctype, body, tmp_path, chunk=len(body)).fields
    assert fields == {"note": "first", "project_name": "x" * limit}


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("song.MP3", ".mp3"),
        ("../../etc/song.flac", ".flac"),
        ("C:\\Users\\me\\take.WAV", ".wav"),
        ("C:\\Users\\me\\.mp3", ""),  # a Windows path to a dot-file: no extension
        ("archive.tar/../y", ""),
        ("clip.abcdefgh", ".abcdefgh"),  # 8 characters: still plain
        ("clip.abcdefghi", ""),  # 9: not an extension we keep
        ("clip.m p3", ""),
        ("clip.mp3;rm", ""),
        ("noext", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_safe_suffix(name: str | None, suffix: str) -> None:
    assert safe_suffix(name) == suffix
