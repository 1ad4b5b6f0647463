"""Worker processes: crashes, time-outs, back-pressure and shutdown never leave a task hanging."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from .conftest import KEY, start, submit, wait_done, wait_running


def _client(engine) -> httpx.Client:
    return httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}, timeout=30)


@pytest.mark.slow
def test_killed_worker_fails_its_task_and_is_replaced(clip: Path):
    engine = start(workers=1)
    try:
        with _client(engine) as client:
            task_id = submit(client, clip, method="slow_long").json()["task_id"]
            running = wait_running(client, task_id)
            assert running["status"] == "PENDING"
            assert running["message"].startswith("separating with slow_long")
            pid = engine.state.runner.busy_pids()[task_id]
            os.kill(pid, signal.SIGKILL)

            status = wait_done(client, task_id, timeout=20)
            assert status["status"] == "ERROR"
            assert status["exception_reason"] == "PROCESSING_ERROR"
            assert f"pid {pid}" in status["message"] and "exited" in status["message"]

            # The server keeps serving and a fresh worker takes the next job.
            again = wait_done(client, submit(client, clip, method="half").json()["task_id"])
            assert again["status"] == "SUCCESS", again
            assert pid not in engine.state.runner.worker_pids()
    finally:
        engine.stop()


def test_method_returning_wrong_shape_is_a_processing_error(client: httpx.Client, clip: Path):
    status = wait_done(client, submit(client, clip, method="broken").json()["task_id"])
    assert status["status"] == "ERROR"
    assert status["exception_reason"] == "PROCESSING_ERROR"
    assert "shape" in status["message"]


@pytest.mark.slow
def test_job_timeout_kills_the_job(clip: Path):
    engine = start(workers=1, job_timeout=1.0)
    try:
        with _client(engine) as client:
            task_id = submit(client, clip, method="slow").json()["task_id"]
            status = wait_done(client, task_id, timeout=20)
            assert status["status"] == "TIMEOUT"
            assert "job_timeout=1 s" in status["message"]
    finally:
        engine.stop()


@pytest.mark.slow
def test_full_queue_answers_429_and_shutdown_fails_what_is_left(clip: Path):
    engine = start(workers=1, max_queue=1)
    ids = []
    try:
        with _client(engine) as client:
            first = submit(client, clip, method="slow_long").json()["task_id"]
            wait_running(client, first)
            ids = [first, submit(client, clip, method="slow_long").json()["task_id"]]
            queued = client.get(f"/audio-separation/{ids[1]}").json()
            assert (queued["queue_position"], queued["queue_length"]) == (1, 1)

            refused = submit(client, clip, method="half")
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1
            assert "full" in refused.json()["detail"]
            assert client.get("/engine").json()["queued"] == 1
    finally:
        engine.stop()
    for task_id in ids:
        task = engine.state.tasks.get(task_id)
        assert task.status == "ERROR" and task.exception_reason == "INTERNAL_ERROR", task
    assert not engine.state.root.exists()


@pytest.mark.slow
def test_progress_is_piped_from_the_worker(clip: Path):
    engine = start(workers=1)
    try:
        with _client(engine) as client:
            task_id = submit(client, clip, method="slow").json()["task_id"]
            seen = []
            while True:
                status = client.get(f"/audio-separation/{task_id}").json()
                seen.append(status["progress"])
                if status["status"] != "PENDING":
                    break
                time.sleep(0.1)
            assert status["status"] == "SUCCESS"
            middle = [p for p in seen if 10 < p < 90]
            assert middle, seen
            assert seen == sorted(seen)
    finally:
        engine.stop()
