"""Bad inputs get the cloud's verdicts; malformed requests FastAPI's 422; the server lives on.

The audio is judged in the task, like the cloud: the submission answers a
``task_id`` and the status ends in ``ERROR`` with the documented
``exception_reason``. Request-shape problems answer 422 (FastAPI's shape), a
missing or wrong key 401.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from camb_notebook.engine import EngineHandle

from .conftest import KEY, SR, make_clip, start, submit, wait_done, write_clip

MAX_BYTES = 300_000


@pytest.fixture(scope="module")
def engine() -> Iterator[EngineHandle]:
    handle = start(max_duration=3.0, max_bytes=MAX_BYTES)
    yield handle
    handle.stop()


def _error_of(client: httpx.Client, path: Path) -> dict:
    answer = submit(client, path, method="half")
    assert answer.status_code == 200, answer.text
    status = wait_done(client, answer.json()["task_id"])
    assert status["status"] == "ERROR", status
    assert status["run_id"] is None
    assert status["message"], status
    return status


def _flac_bytes(seconds: float = 0.5) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, make_clip(seconds).T, SR, format="FLAC")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "notes.wav",
            b"these are not the samples you are looking for\n" * 50,
            "SOURCE_TYPE_NOT_SUPPORTED",
        ),
        ("clip.xyz", _flac_bytes(), "SOURCE_TYPE_NOT_SUPPORTED"),
        ("clip.mp3", _flac_bytes(), "CONTENT_DOES_NOT_MATCH_EXTENSION"),
        ("empty.wav", b"", "INVALID_SOURCE_DATA"),
    ],
)
def test_bad_sources_end_in_error_with_the_cloud_reason(
    client: httpx.Client, tmp_path: Path, name: str, content: bytes, reason: str
):
    path = tmp_path / name
    path.write_bytes(content)
    assert _error_of(client, path)["exception_reason"] == reason


def test_truncated_file_is_invalid_source_data(client: httpx.Client, tmp_path: Path):
    whole = _flac_bytes(2.0)
    path = tmp_path / "cut.flac"
    path.write_bytes(whole[: len(whole) // 3])
    assert _error_of(client, path)["exception_reason"] == "INVALID_SOURCE_DATA"


def test_too_long_is_source_too_long(client: httpx.Client, tmp_path: Path):
    path = tmp_path / "long.flac"
    sf.write(path, np.zeros((int(4.0 * 8000), 1), dtype=np.float32), 8000, format="FLAC")
    status = _error_of(client, path)
    assert status["exception_reason"] == "SOURCE_TOO_LONG"
    assert "3 s" in status["message"]


def test_too_large_with_content_length_is_refused_unread(client: httpx.Client, tmp_path: Path):
    path = tmp_path / "big.wav"
    sf.write(path, np.zeros((MAX_BYTES, 1), dtype=np.float32), SR, subtype="PCM_16")
    status = _error_of(client, path)
    assert status["exception_reason"] == "SOURCE_TOO_LARGE"
    assert "MiB" in status["message"]


def test_too_large_stream_is_cut_off_while_it_arrives(engine: EngineHandle, client: httpx.Client):
    """A chunked upload (no Content-Length) is counted as it streams and cut off."""
    chunk = os.urandom(64 * 1024)
    total_chunks = 800  # 50 MiB, far more than the loopback socket buffers
    sent = [0]

    def body() -> Iterator[bytes]:
        yield (
            b'--b0undary\r\nContent-Disposition: form-data; name="media_file"; '
            b'filename="huge.wav"\r\nContent-Type: audio/wav\r\n\r\n'
        )
        for _ in range(total_chunks):
            sent[0] += 1
            yield chunk
        yield b"\r\n--b0undary--\r\n"

    answer = client.post(
        "/audio-separation",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=b0undary"},
    )
    assert answer.status_code == 200, answer.text
    assert sent[0] < total_chunks // 2, "the server read the whole oversized upload"
    status = wait_done(client, answer.json()["task_id"])
    assert status["exception_reason"] == "SOURCE_TOO_LARGE"
    leftovers = [p for p in engine.state.root.rglob("*") if p.is_file()]
    assert not [p for p in leftovers if p.name.startswith("input")], leftovers


def _detail(answer: httpx.Response) -> list[dict]:
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, list)
    for item in detail:
        assert {"loc", "msg", "type"} <= set(item)
    return detail


def test_missing_file_is_422_in_fastapi_shape(client: httpx.Client):
    detail = _detail(client.post("/audio-separation", data={"project_name": "x"}))
    assert detail[0]["loc"] == ["body", "media_file"]
    assert detail[0]["type"] == "missing"
    assert _detail(client.post("/audio-separation"))[0]["loc"] == ["body", "media_file"]


def test_bad_folder_id_method_and_run_id_are_422(client: httpx.Client, clip: Path):
    detail = _detail(submit(client, clip, folder_id="twelve"))
    assert detail[0]["loc"] == ["body", "folder_id"]
    assert detail[0]["type"] == "int_parsing"
    detail = _detail(submit(client, clip, method="no-such-method"))
    assert detail[0]["loc"] == ["body", "method"]
    assert "available" in detail[0]["msg"]
    with clip.open("rb") as f:
        answer = client.post(
            "/audio-separation", files={"media_file": f}, params={"run_id": "soon"}
        )
    assert _detail(answer)[0]["loc"] == ["query", "run_id"]
    assert _detail(client.post("/audio-separation-results", json={"run_ids": "1"}))
    assert _detail(client.get("/audio-separation-result/abc"))


def test_malformed_multipart_is_422(client: httpx.Client):
    answer = client.post(
        "/audio-separation",
        content=b"--x\r\nno headers at all\r\n\r\n",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert _detail(answer)
    answer = client.post(
        "/audio-separation", content=b"abc", headers={"content-type": "multipart/form-data"}
    )
    assert "boundary" in _detail(answer)[0]["msg"]


def test_key_is_required_and_never_echoed(engine: EngineHandle, clip: Path):
    for headers in ({}, {"x-api-key": "wrong"}):
        with httpx.Client(base_url=engine.base_url, headers=headers) as anonymous:
            answer = submit(anonymous, clip)
            assert answer.status_code == 401
            assert KEY not in answer.text
            assert anonymous.get("/audio-separation/x").status_code == 401
    assert KEY not in repr(engine) and KEY not in repr(engine.config)


def test_unknown_ids_are_404(client: httpx.Client):
    assert client.get("/audio-separation/not-a-task").status_code == 404
    assert client.get("/audio-separation-result/123456").status_code == 404


def test_server_stays_healthy_after_bad_inputs(client: httpx.Client, tmp_path: Path):
    info = client.get("/engine")
    assert info.status_code == 200
    good = write_clip(tmp_path / "fine.wav", seconds=0.5)
    status = wait_done(client, submit(client, good, method="half").json()["task_id"])
    assert status["status"] == "SUCCESS", status
