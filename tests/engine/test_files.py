"""Result files: content types, Range requests, unguessable ids, no path traversal."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from .conftest import KEY, submit, wait_done


@pytest.fixture(scope="module")
def urls(engine, clip: Path) -> dict[str, str]:
    with httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}) as c:
        status = wait_done(c, submit(c, clip, method="half").json()["task_id"])
    assert status["status"] == "SUCCESS", status
    return status


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


@pytest.mark.parametrize(
    "path",
    [
        "/files/../apis/openapi.json",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        "/files/{id}/..%2F..%2F..%2Fetc%2Fpasswd",
        "/files/{id}/input.wav",
        "/files/{id}/foreground.mp3",
        "/files/{id}/..",
        "/files/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/foreground.flac",
        "/files/{id}%2F..%2F/foreground.flac",
    ],
)
def test_no_traversal_and_no_guessing(urls, path):
    file_id = urlsplit(urls["foreground_audio_url"]).path.split("/")[-2]
    origin = urls["foreground_audio_url"].split("/files/")[0]
    answer = httpx.get(origin + path.replace("{id}", file_id))
    assert answer.status_code == 404 or (
        # httpx normalises "/files/../apis/openapi.json" to the OpenAPI document itself
        path.startswith("/files/../") and answer.headers["content-type"] == "application/json"
    )
    assert not answer.content.startswith(b"root:")


def test_file_id_is_unguessable(urls):
    file_id = urlsplit(urls["foreground_audio_url"]).path.split("/")[-2]
    assert len(file_id) >= 32
