"""Results live for the configured time, then tasks, URLs and files are gone."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from .conftest import KEY, start, submit, wait_done


def test_results_expire_and_their_files_are_deleted(clip: Path):
    engine = start(result_ttl=0.5, cleanup_interval=0.1)
    try:
        with httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}) as client:
            task_id = submit(client, clip, method="half").json()["task_id"]
            status = wait_done(client, task_id)
            assert status["status"] == "SUCCESS"
            assert httpx.get(status["foreground_audio_url"]).status_code == 200
            task_dir = engine.state.root / task_id
            assert (task_dir / "out").is_dir()
            assert not (task_dir / "in").exists(), "the upload outlived its job"

            deadline = time.monotonic() + 10
            while task_dir.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not task_dir.exists()
            assert client.get(f"/audio-separation/{task_id}").status_code == 404
            assert client.get(f"/audio-separation-result/{status['run_id']}").status_code == 404
            assert httpx.get(status["foreground_audio_url"]).status_code == 404
    finally:
        engine.stop()
