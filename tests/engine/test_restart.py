"""Nothing lost on restart: ``serve`` killed with SIGKILL mid-job, started again on the same port
and root, serves finished tasks as before and runs the unfinished ones again — and a waiting
client gets its result without submitting twice."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from camb_notebook.api import Client, RetryPolicy, TaskStore
from camb_notebook.engine._db import TaskDB

from .conftest import REPO, serve_process, submit, wait_done, wait_running

KEY = "restart-test-key-0123456789"


def _client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"x-api-key": KEY}, timeout=30)


@pytest.mark.slow
def test_sigkill_mid_job_then_restart_loses_nothing(tmp_path: Path, clip: Path):
    root = tmp_path / "root"
    args = ("--api-key", KEY, "--root", str(root))
    served = serve_process(tmp_path, *args)
    try:
        with _client(served.base_url) as client:
            done_id = submit(client, clip, method="half").json()["task_id"]
            done = wait_done(client, done_id)
            running_id = submit(client, clip, method="slow").json()["task_id"]
            queued_id = submit(client, clip, method="half").json()["task_id"]
            wait_running(client, running_id)
            assert client.get(f"/audio-separation/{queued_id}").json()["queue_position"] == 1
    finally:
        served.kill()

    again = serve_process(tmp_path, *args, port=served.port)
    try:
        with _client(again.base_url) as client:
            before = client.get(f"/audio-separation/{done_id}").json()
            assert before["status"] == "SUCCESS" and before["run_id"] == done["run_id"]
            # the link handed out before the crash still works: same file, same signing key
            old = httpx.get(done["foreground_audio_url"])
            assert old.status_code == 200 and old.content[:4] == b"fLaC"
            result = client.get(f"/audio-separation-result/{done['run_id']}")
            assert result.status_code == 200
            for task_id in (running_id, queued_id):
                status = wait_done(client, task_id, timeout=120)
                assert status["status"] == "SUCCESS", status
                assert httpx.get(status["background_audio_url"]).status_code == 200
            tasks = client.get("/engine/tasks").json()["tasks"]
            assert sorted(t["task_id"] for t in tasks) == sorted([done_id, running_id, queued_id])
    finally:
        assert again.stop() == 0, again.output()
    assert "restart: 2 unfinished job(s) queued again" in again.output()
    rows = {r["task_id"]: r for r in TaskDB(root / "engine.sqlite3").load()}
    assert rows[running_id]["attempts"] == 2 and rows[queued_id]["attempts"] == 1


@pytest.mark.slow
def test_a_job_whose_upload_is_gone_ends_error_with_the_reason(tmp_path: Path, clip: Path):
    root = tmp_path / "root"
    args = ("--api-key", KEY, "--root", str(root))
    served = serve_process(tmp_path, *args)
    try:
        with _client(served.base_url) as client:
            task_id = submit(client, clip, method="slow").json()["task_id"]
            wait_running(client, task_id)
    finally:
        served.kill()
    shutil.rmtree(root / task_id / "in")

    again = serve_process(tmp_path, *args, port=served.port)
    try:
        with _client(again.base_url) as client:
            status = client.get(f"/audio-separation/{task_id}").json()
    finally:
        again.stop()
    assert status["status"] == "ERROR" and status["exception_reason"] == "INTERNAL_ERROR"
    assert "upload is no longer stored" in status["message"]


@pytest.mark.slow
def test_a_waiting_client_gets_its_result_across_a_sigkill_restart(tmp_path: Path, clip: Path):
    root = tmp_path / "root"
    args = ("--api-key", KEY, "--root", str(root))
    served = serve_process(tmp_path, *args)
    store = TaskStore(tmp_path / "tasks.sqlite3")
    outcome: dict[str, Any] = {}
    # Retries that outlast a restart (~5 s here): 1 + 2 + 4 + 8 + 8 s of backoff at most.
    retry = RetryPolicy(max_attempts=6, backoff_base=1.0, backoff_max=8.0, jitter=False)

    def separate() -> None:
        with Client(KEY, served.base_url, store=store, retry=retry, poll_interval=0.2) as client:
            try:
                outcome["result"] = client.separate(clip, method="slow", out_dir=tmp_path / "a")
            except Exception as exc:  # reported below
                outcome["error"] = exc

    waiting = threading.Thread(target=separate)
    try:
        waiting.start()
        with _client(served.base_url) as client:
            deadline_tasks: list[dict] = []
            while not deadline_tasks:
                deadline_tasks = client.get("/engine/tasks").json()["tasks"]
            task_id = deadline_tasks[0]["task_id"]
            wait_running(client, task_id)
    finally:
        served.kill()
    again = serve_process(tmp_path, *args, port=served.port)
    try:
        waiting.join(180)
        assert not waiting.is_alive()
        assert "error" not in outcome, outcome["error"]
        result = outcome["result"]
        assert result.task_id == task_id
        assert result.foreground.is_file() and result.background.is_file()
        with _client(again.base_url) as client:
            tasks = client.get("/engine/tasks").json()["tasks"]
        assert [t["task_id"] for t in tasks] == [task_id], "submitted twice"
        assert [r.task_id for r in store.all()] == [task_id]
    finally:
        assert again.stop() == 0, again.output()


@pytest.mark.slow
def test_a_new_client_reattaches_through_its_task_store(tmp_path: Path, clip: Path):
    """Server and client both killed mid-job (a crash, a kernel restart): the next
    ``separate`` of the same file waits on the same task instead of uploading again."""
    root = tmp_path / "root"
    args = ("--api-key", KEY, "--root", str(root))
    served = serve_process(tmp_path, *args)
    store_path = tmp_path / "tasks.sqlite3"
    code = (
        "import sys; from camb_notebook.api import Client, TaskStore; "
        f"Client({KEY!r}, {served.base_url!r}, store=TaskStore({str(store_path)!r}))"
        f".separate({str(clip)!r}, method='slow')"
    )
    child = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)
    try:
        with _client(served.base_url) as client:
            tasks: list[dict] = []
            while not tasks:
                assert child.poll() is None
                tasks = client.get("/engine/tasks").json()["tasks"]
            task_id = tasks[0]["task_id"]
            wait_running(client, task_id)
    finally:
        child.kill()
        child.wait(30)
        served.kill()
    store = TaskStore(store_path)
    assert [(r.task_id, r.state) for r in store.all()] == [(task_id, "PENDING")]
    again = serve_process(tmp_path, *args, port=served.port)
    try:
        with Client(KEY, again.base_url, store=store, poll_interval=0.2) as client:
            result = client.separate(clip, method="slow", out_dir=tmp_path / "stems")
        assert result.task_id == task_id and result.foreground.is_file()
        with _client(again.base_url) as client:
            tasks = client.get("/engine/tasks").json()["tasks"]
        assert [t["task_id"] for t in tasks] == [task_id], "submitted twice"
    finally:
        assert again.stop() == 0, again.output()


def test_a_cancelled_task_stays_cancelled_after_a_restart(tmp_path: Path, clip: Path):
    """The cancel is written to the engine's database: a restart does not run the job again."""
    from .conftest import start

    engine = start(root=tmp_path / "root", persist=True, workers=1)
    try:
        with _client_for(engine) as client:
            running = submit(client, clip, method="slow").json()["task_id"]
            queued = submit(client, clip, method="slow").json()["task_id"]
            wait_running(client, running)
            for task_id in (running, queued):
                assert client.delete(f"/audio-separation/{task_id}").status_code == 200
    finally:
        engine.stop()
    rows = {r["task_id"]: r for r in TaskDB(tmp_path / "root" / "engine.sqlite3").load()}
    assert {rows[t]["exception_reason"] for t in (running, queued)} == {"CANCELLED"}

    again = start(root=tmp_path / "root", persist=True, workers=1)
    try:
        assert again.state.runner.queued() == again.state.runner.running() == 0
        with _client_for(again) as client:
            for task_id in (running, queued):
                status = client.get(f"/audio-separation/{task_id}").json()
                assert (status["status"], status["exception_reason"]) == ("ERROR", "CANCELLED")
    finally:
        again.stop()


def _client_for(engine: Any) -> httpx.Client:
    from .conftest import KEY as ENGINE_KEY

    return httpx.Client(base_url=engine.base_url, headers={"x-api-key": ENGINE_KEY}, timeout=30)
