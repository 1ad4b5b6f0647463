"""Worker processes: crashes, time-outs, back-pressure and shutdown never leave a task hanging."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from .conftest import KEY, start, submit, wait_done


def _client(engine) -> httpx.Client:
    return httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}, timeout=30)


def _wait_running(client: httpx.Client, task_id: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"/audio-separation/{task_id}").json()
        if status["progress"] and status["progress"] > 5:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


@pytest.mark.slow
def test_killed_worker_fails_its_task_and_is_replaced(clip: Path):
    engine = start(workers=1)
    try:
        with _client(engine) as client:
            task_id = submit(client, clip, method="slow_long").json()["task_id"]
            running = _wait_running(client, task_id)
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
            _wait_running(client, first)
            ids = [first, submit(client, clip, method="slow_long").json()["task_id"]]
            queued = client.get(f"/audio-separation/{ids[1]}").json()
            assert queued["message"] == "queued: position 1 of 1"
            assert (queued["queue_position"], queued["queue_length"]) == (1, 1)
            running = client.get(f"/audio-separation/{first}").json()
            assert running["queue_position"] is None and running["queue_length"] is None

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


@pytest.mark.slow
def test_cancel_stops_the_running_job_and_the_next_one_starts_at_once(clip: Path):
    """``DELETE /audio-separation/{id}`` (engine extra): the worker is stopped, not left busy."""
    engine = start(workers=1)
    try:
        with _client(engine) as client:
            first = submit(client, clip, method="slow_long").json()["task_id"]
            _wait_running(client, first)
            pid = engine.state.runner.busy_pids()[first]
            queued = submit(client, clip, method="half").json()["task_id"]
            assert client.get(f"/audio-separation/{queued}").json()["status"] == "PENDING"

            answer = client.delete(f"/audio-separation/{first}")
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "ERROR"
            assert answer.json()["exception_reason"] == "CANCELLED"
            started = time.monotonic()
            done = wait_done(client, queued, timeout=30)
            assert done["status"] == "SUCCESS", done
            # The 60 s job no longer holds the only worker: the next clip ran right away.
            assert time.monotonic() - started < 20
            assert pid not in engine.state.runner.worker_pids()
            status = client.get(f"/audio-separation/{first}").json()
            assert (status["status"], status["exception_reason"]) == ("ERROR", "CANCELLED")
            # Cancelling again, or a finished task, changes nothing; unknown ids are 404.
            assert client.delete(f"/audio-separation/{queued}").json()["status"] == "SUCCESS"
            assert client.delete(f"/audio-separation/{first}").json()["status"] == "ERROR"
            assert client.delete("/audio-separation/no-such-task").status_code == 404
    finally:
        engine.stop()


def test_cancel_drops_a_queued_job_before_it_starts(clip: Path):
    engine = start(workers=1)
    try:
        with _client(engine) as client:
            first = submit(client, clip, method="slow").json()["task_id"]
            waiting = submit(client, clip, method="half").json()["task_id"]
            answer = client.delete(f"/audio-separation/{waiting}").json()
            assert (answer["status"], answer["exception_reason"]) == ("ERROR", "CANCELLED")
            assert engine.state.runner.position(waiting) is None
            assert engine.state.runner.queued() == 0
            assert wait_done(client, first)["status"] == "SUCCESS"
    finally:
        engine.stop()


def test_client_cancel_stops_the_task_and_the_store_says_cancelled(clip: Path, tmp_path: Path):
    from camb_notebook.api import Client, Settings, TaskStore

    engine = start(workers=1)
    store = TaskStore(tmp_path / "tasks.sqlite3")
    settings = Settings(engine.base_url, KEY, "engine", identity="local-engine")
    try:
        with Client(settings=settings, store=store) as client:
            task = client.submit(clip, method="slow_long")
            with _client(engine) as raw:
                _wait_running(raw, task.task_id)
            status = client.cancel(task)
            assert status is not None and status.exception_reason == "CANCELLED"
            assert store.get("local-engine", task.task_id).state == "CANCELLED"  # type: ignore[union-attr]
            assert store.unfinished() == []  # never re-attached
            assert client.cancel(task).status == "ERROR"  # type: ignore[union-attr]  # idempotent
    finally:
        engine.stop()


def _progress_seen(client: httpx.Client, task_id: str) -> list[float]:
    seen: list[float] = []
    while True:
        status = client.get(f"/audio-separation/{task_id}").json()
        if status["status"] != "PENDING":
            return seen
        if status["progress"] and (not seen or seen[-1] != status["progress"]):
            seen.append(status["progress"])
        time.sleep(0.05)


@pytest.mark.slow
def test_progress_moves_between_a_methods_coarse_reports(clip: Path):
    """A method that reports only per block (5 % → 50 % → 95 %) still moves in small steps:
    within a job once one block has set the pace, and from the start for the next job."""
    engine = start(workers=1)
    try:
        with _client(engine) as client:
            first = _progress_seen(client, submit(client, clip, method="chunky").json()["task_id"])
            assert len([p for p in first if 50 < p < 95]) >= 3, first  # the second block moved
            second = _progress_seen(client, submit(client, clip, method="chunky").json()["task_id"])
            assert len([p for p in second if 5 < p < 50]) >= 3, second  # the first one too
            assert second == sorted(second) and max(second) <= 95, second
    finally:
        engine.stop()
