"""The engine seen from outside: plain HTTP with httpx, no project client."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
import soundfile as sf

from .conftest import SR, make_clip, submit, wait_done, write_clip

#: 24-bit FLAC quantises each stem to 2**-23; the sum of two stems is within 2 steps.
FLAC_TOLERANCE = 2.5 * 2.0**-23
#: 32-bit float WAV is bit-exact; the only error is float32 rounding of fg + bg.
WAV_TOLERANCE = 1e-6


def _fetch(url: str) -> tuple[np.ndarray, int, httpx.Response]:
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200, answer.text
    data, sr = sf.read(io.BytesIO(answer.content), dtype="float32", always_2d=True)
    return data.T, sr, answer


def _original(path: Path) -> np.ndarray:
    data, _ = sf.read(path, dtype="float32", always_2d=True)
    return data.T


@pytest.mark.parametrize("method", ["repet", "half"])
def test_submit_poll_fetch_and_stems_sum_back(client: httpx.Client, clip: Path, method: str):
    answer = submit(client, clip, method=method, project_name="blackbox", folder_id=3)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"task_id"}

    status = wait_done(client, answer.json()["task_id"])
    assert status["status"] == "SUCCESS", status
    assert status["exception_reason"] is None
    assert isinstance(status["run_id"], int)
    assert status["progress"] == 100
    assert status["method"] == method
    assert "residual" in status["message"]

    urls = client.get(f"/audio-separation-result/{status['run_id']}").json()
    assert set(urls) == {"foreground_audio_url", "background_audio_url"}
    assert urls["foreground_audio_url"].startswith("http://127.0.0.1:")

    original = _original(clip)
    fg, sr_fg, fg_answer = _fetch(urls["foreground_audio_url"])
    bg, sr_bg, _ = _fetch(urls["background_audio_url"])
    assert fg_answer.headers["content-type"] == "audio/flac"
    assert sr_fg == sr_bg == SR
    assert fg.shape == bg.shape == original.shape
    assert np.max(np.abs(fg + bg - original)) <= FLAC_TOLERANCE
    # The reported residual agrees with what we measure (it floors at -120 dBFS).
    assert status["residual_db"] <= -100

    # Seeking in a browser: a Range request returns exactly the asked-for bytes.
    ranged = httpx.get(urls["background_audio_url"], headers={"Range": "bytes=100-1099"})
    assert ranged.status_code == 206
    assert len(ranged.content) == 1000
    whole = httpx.get(urls["background_audio_url"]).content
    assert ranged.content == whole[100:1100]
    assert ranged.headers["content-range"] == f"bytes 100-1099/{len(whole)}"


def test_wav_on_request_is_bit_exact(client: httpx.Client, tmp_path: Path):
    clip = write_clip(tmp_path / "mono.flac", seconds=1.0, channels=1)
    task_id = submit(client, clip, method="half", format="wav").json()["task_id"]
    status = wait_done(client, task_id)
    assert status["status"] == "SUCCESS", status
    assert urlsplit(status["foreground_audio_url"]).path.endswith("/foreground.wav")
    fg, sr, answer = _fetch(status["foreground_audio_url"])
    bg, _, _ = _fetch(status["background_audio_url"])
    assert answer.headers["content-type"] == "audio/wav"
    assert sr == SR and fg.shape == (1, SR)
    assert np.max(np.abs(fg + bg - _original(clip))) <= WAV_TOLERANCE

    # and the FLAC of the same stem, converted on request
    # httpx's params= would replace the signed query: add to it instead
    flac = httpx.get(status["foreground_audio_url"] + "&format=flac")
    assert flac.headers["content-type"] == "audio/flac"
    assert flac.content[:4] == b"fLaC"


def test_older_field_name_and_batch_results(client: httpx.Client, clip: Path):
    with clip.open("rb") as f:
        first = client.post(
            "/audio-separation",
            files={"audio_file": ("old.wav", f)},
            data={"method": "half"},
            params={"run_id": 4242},
        )
    assert first.status_code == 200, first.text
    status = wait_done(client, first.json()["task_id"])
    assert status["run_id"] == 4242
    second = wait_done(client, submit(client, clip, method="half").json()["task_id"])
    with clip.open("rb") as f:
        reused = client.post("/audio-separation", files={"media_file": f}, params={"run_id": 4242})
    assert reused.status_code == 409 and "4242" in reused.json()["detail"]

    answer = client.post("/audio-separation-results", json={"run_ids": [4242, second["run_id"], 9]})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"4242", str(second["run_id"])}
    same = urlsplit(body["4242"]["foreground_audio_url"]).path  # links of one file
    assert same == urlsplit(status["foreground_audio_url"]).path


def test_result_keeps_rate_channels_and_length(client: httpx.Client, tmp_path: Path):
    path = tmp_path / "odd.wav"
    x = make_clip(seconds=0.73, sr=16000, channels=3)
    sf.write(path, x.T, 16000, subtype="FLOAT")
    status = wait_done(client, submit(client, path, method="half").json()["task_id"])
    assert status["status"] == "SUCCESS", status
    fg, sr, _ = _fetch(status["foreground_audio_url"])
    assert sr == 16000 and fg.shape == x.shape


def test_openapi_document_describes_the_contract(client: httpx.Client):
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for path in (
        "/apis/audio-separation",
        "/apis/audio-separation/{task_id}",
        "/apis/audio-separation-result/{run_id}",
        "/apis/audio-separation-results",
    ):
        assert path in paths
    form = paths["/apis/audio-separation"]["post"]["requestBody"]["content"]
    properties = form["multipart/form-data"]["schema"]["properties"]
    assert {"media_file", "audio_file", "folder_id"} <= set(properties)
    assert {"half", "slow"} <= set(properties["method"]["enum"])
    assert doc["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "x-api-key"
