"""Clients none of us wrote, unchanged, against ``camb-notebook serve``: the official CAMB.AI
Python SDK (``camb-sdk``) and the seed document's own ``requests`` code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Served, serve_process

KEY = "sdk-test-key-0123456789"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("clients")
    # the plumbing is under test, not a method: the cheap one by default
    args = ("--api-key", KEY, "--root", str(folder / "root"), "--method", "half")
    served = serve_process(folder, *args)
    yield served
    assert served.stop() == 0, served.output()


def test_a_whole_job_with_the_official_sdk(served: Served, clip: Path, tmp_path: Path):
    camb = pytest.importorskip("camb")
    with httpx.Client(timeout=60) as http:
        client = camb.CambAI(api_key=KEY, base_url=served.base_url, httpx_client=http)
        _whole_job(camb, client.audio_separation, clip, tmp_path)


def _whole_job(camb: Any, separation: Any, clip: Path, tmp_path: Path) -> None:

    with clip.open("rb") as f:
        created = separation.create_audio_separation(
            media_file=f, project_name="sdk test", project_description="against serve"
        )
    assert created.task_id
    deadline = time.monotonic() + 120
    while True:
        status = separation.get_audio_separation_status(created.task_id)
        if status.status != "PENDING":
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert status.status == "SUCCESS", status
    assert isinstance(status.run_id, int)

    info = separation.get_audio_separation_run_info(status.run_id)
    batch = separation.get_audio_separation_runs_results(run_ids=[status.run_id])
    assert set(batch) == {str(status.run_id)}
    for url in (info.foreground_audio_url, batch[str(status.run_id)].background_audio_url):
        answer = httpx.get(url)  # a result URL needs no key
        assert answer.status_code == 200 and answer.content[:4] == b"fLaC"
        (tmp_path / url.split("?")[0].rsplit("/", 1)[-1]).write_bytes(answer.content)
    assert (tmp_path / "foreground.flac").stat().st_size > 1000
    assert (tmp_path / "background.flac").stat().st_size > 1000

    with pytest.raises(camb.core.api_error.ApiError) as missing:
        separation.get_audio_separation_run_info(status.run_id + 1)
    assert missing.value.status_code == 404


def test_the_seed_documents_code(served: Served, clip: Path, tmp_path: Path):
    """The seed document's snippet, as written there: ``audio_file``, then the status
    answer's ``foreground_url`` / ``background_url`` on SUCCESS."""
    requests = pytest.importorskip("requests")
    api_key, base_url = KEY, served.base_url
    headers = {"x-api-key": api_key}

    with open(clip, "rb") as audio:
        response = requests.post(
            f"{base_url}/audio-separation", headers=headers, files={"audio_file": audio}
        )
    task_id = response.json()["task_id"]
    deadline = time.monotonic() + 120
    while True:
        status_data = requests.get(f"{base_url}/audio-separation/{task_id}", headers=headers).json()
        if status_data["status"] == "SUCCESS":
            foreground_url = status_data.get("foreground_url")
            background_url = status_data.get("background_url")
            break
        assert status_data["status"] == "PENDING", status_data
        assert time.monotonic() < deadline
        time.sleep(0.5)

    for name, url in (("foreground", foreground_url), ("background", background_url)):
        assert url, status_data
        answer = requests.get(url)
        assert answer.status_code == 200
        (tmp_path / f"{name}.flac").write_bytes(answer.content)
    assert (tmp_path / "foreground.flac").read_bytes()[:4] == b"fLaC"
