"""A key per person: isolation (404, never 403), the admin's view, per-key limits, key names in
logs, unguessable run ids, and the keys file read again on SIGHUP."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from camb_notebook import ConfigurationError
from camb_notebook.engine import EngineHandle
from camb_notebook.engine._keys import parse_keys

from .conftest import serve_process, start, submit, wait_done, wait_running

ALICE, BOB, ADMIN = "alice-key-0123456789", "bob-key-9876543210", "admin-key-5555555555"


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "keys.txt"
    path.write_text(f"# the class\nalice {ALICE}\nbob   {BOB}   # second row\n")
    return path


@pytest.fixture(scope="module")
def engine(keys_file: Path) -> Iterator[EngineHandle]:
    handle = start(keys_file=keys_file, admin_key=ADMIN, max_jobs_per_key=2, access_log=True)
    yield handle
    handle.stop()


def _client(engine: EngineHandle, key: str | None) -> httpx.Client:
    headers = {"x-api-key": key} if key else {}
    return httpx.Client(base_url=engine.base_url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def alices_task(engine: EngineHandle, clip: Path) -> dict:
    with _client(engine, ALICE) as alice:
        task_id = submit(alice, clip, method="half").json()["task_id"]
        status = wait_done(alice, task_id)
    assert status["status"] == "SUCCESS", status
    return {"task_id": task_id, **status}


def test_another_key_sees_nothing_of_alices(engine: EngineHandle, alices_task: dict):
    task_id, run_id = alices_task["task_id"], alices_task["run_id"]
    with _client(engine, BOB) as bob:
        unknown = bob.get("/audio-separation/00000000-0000-4000-8000-000000000000")
        by_task = bob.get(f"/audio-separation/{task_id}")
        by_run = bob.get(f"/audio-separation-result/{run_id}")
        batch = bob.post("/audio-separation-results", json={"run_ids": [run_id]})
        listing = bob.get("/engine/tasks")
        info = bob.get("/engine").json()
    # exactly what an id that never existed gets: nothing tells Bob Alice's task exists
    assert by_task.status_code == unknown.status_code == 404
    assert by_task.json()["detail"] == f"task {task_id!r} not found (unknown, or expired)"
    assert by_run.status_code == 404
    assert batch.status_code == 200 and batch.json() == {}
    assert listing.status_code == 200
    assert task_id not in listing.text and listing.json()["tasks"] == []
    assert info["key_name"] == "bob" and info["keys"] is None

    with _client(engine, ALICE) as alice:
        assert alice.get(f"/audio-separation-result/{run_id}").status_code == 200
        batch = alice.post("/audio-separation-results", json={"run_ids": [run_id]}).json()
        assert set(batch) == {str(run_id)}
        mine = alice.get("/engine/tasks").json()["tasks"]
        assert [t["task_id"] for t in mine] == [task_id] and mine[0]["owner"] == "alice"


def test_admin_sees_every_task_and_the_load_per_key(engine: EngineHandle, alices_task: dict):
    with _client(engine, ADMIN) as admin:
        status = admin.get(f"/audio-separation/{alices_task['task_id']}").json()
        assert status["status"] == "SUCCESS"
        assert admin.get(f"/audio-separation-result/{alices_task['run_id']}").status_code == 200
        info = admin.get("/engine").json()
        listing = admin.get("/engine/tasks").json()["tasks"]
    assert info["key_name"] == "admin"
    assert info["keys"]["alice"]["finished"] >= 1
    assert "bob" not in info["keys"] or info["keys"]["bob"]["running"] == 0
    assert alices_task["task_id"] in {t["task_id"] for t in listing}


def test_only_the_owner_or_the_admin_may_cancel_a_task(engine: EngineHandle, clip: Path):
    """``DELETE /apis/audio-separation/{id}`` (engine extra): someone else's id is 404, as an
    unknown one, and the task runs on; its owner and the admin key can stop it."""
    with _client(engine, ALICE) as alice, _client(engine, BOB) as bob:
        mine = submit(alice, clip, method="slow").json()["task_id"]
        also = submit(alice, clip, method="slow").json()["task_id"]
        refused = bob.delete(f"/audio-separation/{mine}")
        assert refused.status_code == 404
        assert refused.json()["detail"] == f"task {mine!r} not found (unknown, or expired)"
        assert alice.get(f"/audio-separation/{mine}").json()["status"] == "PENDING"

        stopped = alice.delete(f"/audio-separation/{mine}")
        assert stopped.status_code == 200, stopped.text
        assert (stopped.json()["status"], stopped.json()["exception_reason"]) == (
            "ERROR",
            "CANCELLED",
        )
        with _client(engine, ADMIN) as admin:
            by_admin = admin.delete(f"/audio-separation/{also}").json()
        assert (by_admin["status"], by_admin["exception_reason"]) == ("ERROR", "CANCELLED")
        assert alice.get(f"/audio-separation/{also}").json()["exception_reason"] == "CANCELLED"
        # cancelled tasks no longer count against Alice's limit of 2
        assert submit(alice, clip, method="half").status_code == 200


def test_wrong_or_missing_key_is_401(engine: EngineHandle):
    for key in (None, "not-a-key-at-all", ALICE[:-1]):
        with _client(engine, key) as client:
            answer = client.get("/engine")
        assert answer.status_code == 401
        assert "x-api-key" in answer.json()["detail"]


def test_run_ids_are_not_a_counter(engine: EngineHandle, clip: Path):
    with _client(engine, BOB) as bob:
        ids = [submit(bob, clip, method="half").json()["task_id"] for _ in range(2)]
        runs = [wait_done(bob, t)["run_id"] for t in ids]
    assert all(isinstance(r, int) and 10**9 <= r < 2**53 for r in runs)
    assert abs(runs[0] - runs[1]) > 1000


def test_the_same_chosen_run_id_for_two_keys_reveals_nothing(engine: EngineHandle, clip: Path):
    with _client(engine, ALICE) as alice, _client(engine, BOB) as bob:
        with clip.open("rb") as f:
            a = alice.post("/audio-separation", files={"media_file": f}, params={"run_id": 4242})
        assert a.status_code == 200
        with clip.open("rb") as f:
            b = bob.post("/audio-separation", files={"media_file": f}, params={"run_id": 4242})
        assert b.status_code == 200, b.text  # no 409: Bob must not learn Alice holds 4242
        with clip.open("rb") as f:
            again = bob.post("/audio-separation", files={"media_file": f}, params={"run_id": 4242})
        assert again.status_code == 409  # his own run id, taken by himself
        wait_done(bob, b.json()["task_id"])


def test_a_key_at_its_limit_gets_429_while_others_go_on(
    engine: EngineHandle, clip: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="camb_notebook.engine")
    with _client(engine, ALICE) as alice, _client(engine, BOB) as bob:
        held = [submit(alice, clip, method="slow").json()["task_id"] for _ in range(2)]
        refused = submit(alice, clip, method="half")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "alice" in refused.json()["detail"] and "2 jobs" in refused.json()["detail"]
        other = submit(bob, clip, method="half")
        assert other.status_code == 200
        for task_id in held:
            assert wait_done(alice, task_id, timeout=120)["status"] == "SUCCESS"
        assert submit(alice, clip, method="half").status_code == 200
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "accepted for alice" in text and "key=alice" in text and "key=bob" in text
    for key in (ALICE, BOB, ADMIN):
        assert key not in text


def test_metrics_name_keys_never_the_keys(engine: EngineHandle, alices_task: dict):
    origin = engine.origin
    assert httpx.get(f"{origin}/metrics").status_code == 401
    assert httpx.get(f"{origin}/metrics", headers={"x-api-key": BOB}).status_code == 403
    answer = httpx.get(f"{origin}/metrics", headers={"authorization": f"Bearer {ADMIN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = answer.text
    assert 'camb_engine_submissions_total{key="alice"}' in text
    assert 'camb_engine_jobs_finished_total{method="half",status="SUCCESS"}' in text
    assert "camb_engine_queue_depth" in text and "camb_engine_job_duration_seconds_bucket" in text
    assert "camb_engine_upload_duration_seconds_count" in text
    assert 'camb_engine_key_jobs{key="alice",state="finished"}' in text
    for key in (ALICE, BOB, ADMIN):
        assert key not in text


def test_a_bad_keys_file_is_refused_with_its_line():
    with pytest.raises(ConfigurationError, match="line 2: expected `name key`"):
        parse_keys("ana s3cret-ana-1\nbo\n")
    with pytest.raises(ConfigurationError, match="same key as 'ana'"):
        parse_keys("ana s3cret-ana-1\nbo s3cret-ana-1\n")
    with pytest.raises(ConfigurationError, match="fewer than 8"):
        parse_keys("ana short\n")


def test_serve_reads_the_keys_file_again_on_sighup(tmp_path: Path, clip: Path):
    keys = tmp_path / "keys.txt"
    keys.write_text(f"alice {ALICE}\n")
    served = serve_process(tmp_path, "--keys", str(keys), "--root", str(tmp_path / "root"))
    try:

        def code(key: str) -> int:
            return httpx.get(f"{served.base_url}/engine", headers={"x-api-key": key}).status_code

        assert (code(ALICE), code(BOB)) == (200, 401)
        with httpx.Client(base_url=served.base_url, headers={"x-api-key": ALICE}) as alice:
            task_id = submit(alice, clip, method="half").json()["task_id"]
            assert wait_done(alice, task_id)["status"] == "SUCCESS"

        keys.write_text(f"alice {ALICE}\nbob {BOB}\n")
        served.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while code(BOB) != 200:
            assert time.monotonic() < deadline, served.output()
            time.sleep(0.1)

        keys.write_text(f"bob {BOB}\nthis line is broken\n")  # kept out: the old keys stay
        served.process.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert (code(ALICE), code(BOB)) == (200, 200)

        keys.write_text(f"bob {BOB}\nalice alice-new-key-000000\n")  # Alice's key replaced
        served.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while code(ALICE) != 401:
            assert time.monotonic() < deadline, served.output()
            time.sleep(0.1)
        with httpx.Client(
            base_url=served.base_url, headers={"x-api-key": "alice-new-key-000000"}
        ) as a:
            assert a.get(f"/audio-separation/{task_id}").json()["status"] == "SUCCESS"
        assert served.process.poll() is None
    finally:
        assert served.stop() == 0, served.output()
    log = served.output()
    assert "line 2: expected `name key`" in log and "current keys stay in force" in log
    assert "key=alice" in log
    for key in (ALICE, BOB, "alice-new-key-000000"):
        assert key not in log


def test_progress_reaches_a_keyed_caller(engine: EngineHandle, clip: Path):
    with _client(engine, BOB) as bob:
        task_id = submit(bob, clip, method="slow").json()["task_id"]
        assert wait_running(bob, task_id)["progress"] > 5
        assert wait_done(bob, task_id, timeout=120)["status"] == "SUCCESS"
