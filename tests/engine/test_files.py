"""Result files: content types, Range requests, unguessable ids, no path traversal."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from .conftest import KEY, submit, wait_done


@pytest.fixture(scope="module")
def urls(engine, clip: Path) -> dict[str, str]:
    with httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}) as c:
        task_id = submit(c, clip, method="half").json()["task_id"]
        status = wait_done(c, task_id)
    assert status["status"] == "SUCCESS", status
    return {**status, "task_id": task_id}


def test_full_file_and_head(urls):
    url = urls["foreground_audio_url"]
    whole = httpx.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "audio/flac"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"].startswith("inline")
    head = httpx.head(url)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(whole.content)
    assert head.content == b""


def test_ranges(urls):
    url = urls["background_audio_url"]
    whole = httpx.get(url).content
    n = len(whole)
    tail = httpx.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == whole[-500:]
    open_end = httpx.get(url, headers={"Range": f"bytes={n - 10}-"})
    assert open_end.status_code == 206 and open_end.content == whole[-10:]
    beyond = httpx.get(url, headers={"Range": f"bytes={n + 10}-{n + 20}"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{n}"


def test_wav_variant_has_its_own_type(urls):
    wav = httpx.get(urls["foreground_audio_url"].replace(".flac", ".wav"))
    assert wav.status_code == 200
    assert wav.headers["content-type"] == "audio/wav"
    assert wav.content[:4] == b"RIFF"


def _raw_get(origin: str, target: str) -> tuple[int, bytes]:
    """GET *target* exactly as written: httpx would normalise ``..`` away before sending."""
    parts = urlsplit(origin)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


#: Deep enough to reach / from wherever the engine keeps its files.
UP = "../" * 16
UP_ENCODED = "..%2F" * 16


@pytest.mark.parametrize(
    "path",
    [
        "/files/../apis/openapi.json",
        f"/files/{{id}}/{UP}etc/passwd",
        f"/files/{{id}}/{UP}{{id}}/foreground.flac",
        "/files/{id}/../../{task}/out/foreground.flac",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        f"/files/{{id}}/{UP_ENCODED}etc%2Fpasswd",
        f"/files/{{id}}/{UP.replace('/', '%5C')}etc%5Cpasswd",
        "/files/{id}/..",
        "/files/{id}%2F..%2F/foreground.flac",
        "/files/{id}/input.wav",
        "/files/{id}/foreground.mp3",
        "/files/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/foreground.flac",
    ],
)
def test_no_traversal_and_no_guessing(urls, path):
    file_id = urlsplit(urls["foreground_audio_url"]).path.split("/")[-2]
    origin = urls["foreground_audio_url"].split("/files/")[0]
    target = path.replace("{id}", file_id).replace("{task}", urls["task_id"])
    code, body = _raw_get(origin, target)
    assert code == 404, (target, code, body[:200])
    # Nothing the path may point at comes back: the password file, the API document, a stem.
    assert b"root:" not in body and b"openapi" not in body and not body.startswith(b"fLaC")


def test_the_raw_request_reaches_the_files(urls):
    """The helper above sends what a browser sends: the real file comes back through it."""
    url = urls["foreground_audio_url"]
    origin, _, path = url.partition("/files/")
    code, body = _raw_get(origin, f"/files/{path}")
    assert code == 200 and body.startswith(b"fLaC")


def test_file_id_is_unguessable(urls):
    file_id = urlsplit(urls["foreground_audio_url"]).path.split("/")[-2]
    assert len(file_id) >= 32
