"""The emulator is as strict as the contract it stands in for (plain httpx, no client)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.emulator import READONLY_KEY, Emulator


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=10) as c:
        yield c


def test_only_media_file(http: httpx.Client, emulator: Emulator, wav: Path) -> None:
    key = {"x-api-key": emulator.api_key}
    old = http.post("/audio-separation", headers=key, files={"audio_file": wav.read_bytes()})
    assert old.status_code == 422
    missing = {"type": "missing", "loc": ["body", "media_file"], "msg": "Field required"}
    assert old.json() == {"detail": [{**missing, "input": None}]}
    bad = http.post(
        "/audio-separation", headers=key, files={"media_file": b"x"}, data={"folder_id": "abc"}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["type"] == "int_parsing"
    assert emulator.submissions == 0


def test_keys_and_permissions(http: httpx.Client, emulator: Emulator, wav: Path) -> None:
    files = {"media_file": ("a.wav", wav.read_bytes())}
    assert http.post("/audio-separation", files=files).status_code == 401
    assert http.get("/audio-separation/x", headers={"x-api-key": "nope"}).status_code == 401
    ro = {"x-api-key": READONLY_KEY}
    assert http.post("/audio-separation", headers=ro, files=files).status_code == 403
    task_id = http.post(
        "/audio-separation", headers={"x-api-key": emulator.api_key}, files=files
    ).json()["task_id"]
    assert http.get(f"/audio-separation/{task_id}", headers=ro).status_code == 200


def test_result_files_need_no_key_and_expire(
    http: httpx.Client, emulator: Emulator, wav: Path
) -> None:
    key = {"x-api-key": emulator.api_key}
    task_id = http.post(
        "/audio-separation", headers=key, files={"media_file": ("a.wav", wav.read_bytes())}
    ).json()["task_id"]
    while (status := http.get(f"/audio-separation/{task_id}", headers=key).json())["status"] == (
        "PENDING"
    ):
        pass
    assert "foreground_audio_url" not in status  # the cloud's way: a separate result call
    urls = http.get(f"/audio-separation-result/{status['run_id']}", headers=key).json()
    stem = httpx.get(urls["foreground_audio_url"])
    assert stem.status_code == 200 and stem.content[:4] == b"fLaC"
    emulator.expire_urls()
    expired = httpx.get(urls["foreground_audio_url"])
    assert expired.status_code == 403 and b"AccessDenied" in expired.content
    many = http.post("/audio-separation-results", headers=key, json={"run_ids": [status["run_id"]]})
    assert list(many.json()) == [str(status["run_id"])]
    assert http.post("/audio-separation-results", headers=key, json={}).status_code == 422


def test_undecodable_upload_fails_like_the_service(http: httpx.Client, emulator: Emulator) -> None:
    key = {"x-api-key": emulator.api_key}
    task_id = http.post(
        "/audio-separation", headers=key, files={"media_file": ("a.wav", b"not audio")}
    ).json()["task_id"]
    for _ in range(3):
        status = http.get(f"/audio-separation/{task_id}", headers=key).json()
    assert status["status"] == "ERROR" and status["exception_reason"] == "INVALID_SOURCE_DATA"
