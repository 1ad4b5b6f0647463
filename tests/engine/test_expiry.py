"""Results live for the configured time, then tasks, URLs and files are gone."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from .conftest import KEY, start, submit, wait_done

#: Long enough that the checks right after the job usually fall inside it on a busy machine
#: (the assertions below hold either way: they are judged by when each look happened).
TTL = 4.0
#: The sweeper runs every 0.1 s; a generous bound on how late it may delete.
LATE = 30.0


def test_results_expire_and_their_files_are_deleted(clip: Path):
    engine = start(result_ttl=TTL, cleanup_interval=0.1)
    try:
        with httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}) as client:
            task_id = submit(client, clip, method="half").json()["task_id"]
            status = wait_done(client, task_id)
            assert status["status"] == "SUCCESS"
            task_dir = engine.state.root / task_id
            finished = engine.state.tasks.get(task_id).finished  # the server's clock
            assert not (task_dir / "in").exists(), "the upload outlived its job"

            # Look until the task is gone: every look that ended inside the lifetime must
            # find everything; once gone, everything stays gone.
            alive_looks, gone_at = 0, None
            while gone_at is None:
                try:
                    answer = httpx.get(status["foreground_audio_url"])
                except httpx.RemoteProtocolError:
                    # The file was deleted while it was being sent: the look straddled the
                    # expiry, so it must have ended after the lifetime.
                    assert time.time() >= finished + TTL, "a file was deleted inside its lifetime"
                    continue
                there = (task_dir / "out").is_dir()
                looked = time.time()  # the look ended here; what it saw was true before
                if looked < finished + TTL:
                    assert answer.status_code == 200 and there, (looked - finished, answer)
                    alive_looks += 1
                elif answer.status_code == 404 and not there:
                    gone_at = looked
                assert looked < finished + TTL + LATE, "the result never expired"
                time.sleep(0.05)
            assert alive_looks >= 1, "no look happened inside the lifetime"
            assert not task_dir.exists()
            assert client.get(f"/audio-separation/{task_id}").status_code == 404
            assert client.get(f"/audio-separation-result/{status['run_id']}").status_code == 404
            assert httpx.get(status["foreground_audio_url"]).status_code == 404
    finally:
        engine.stop()
