"""``serve --scheduler``: jobs on a real Dask ``LocalCluster`` of two worker processes, uploads
and stems on shared storage; many clients and keys at once; a worker killed mid-job."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from camb_notebook.api import Client, RetryPolicy, TaskStore

from .conftest import Served, serve_process, submit, wait_done

distributed = pytest.importorskip("distributed")

KEYS = {f"student{i}": f"student-key-{i}-0123456789" for i in range(5)}
ADMIN = "admin-key-for-the-dask-tests"
SR = 8000


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    # dashboard_address=":0": the scheduler's HTTP server on a free port, never 8787, which
    # another cluster on the machine may hold.
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=40,
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def served(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("dask-serve")
    keys = folder / "keys.txt"
    keys.write_text("".join(f"{name} {key}\n" for name, key in KEYS.items()))
    served = serve_process(
        folder,
        "--keys", str(keys),
        "--admin-key", ADMIN,
        "--scheduler", cluster.scheduler_address,
        "--storage", f"file://{folder / 'shared'}",
        "--root", str(folder / "root"),
        "--max-queue", "24",
    )  # fmt: skip
    yield served
    assert served.stop() == 0, served.output()


def _clip(path: Path, seed: int, seconds: float = 0.4) -> Path:
    """A clip no other client has (its own noise): its stems identify it."""
    rng = np.random.default_rng(seed)
    sf.write(path, (0.3 * rng.standard_normal(int(SR * seconds))).astype(np.float32), SR, "FLOAT")
    return path


@pytest.mark.slow
def test_thirty_clients_of_five_keys_each_get_exactly_their_own_stems(
    served: Served, tmp_path: Path
):
    n_clients, per_client = 30, 3
    outcomes: dict[int, list[Any]] = {}
    clips: dict[int, list[Path]] = {}
    for c in range(n_clients):
        folder = tmp_path / f"client{c}"
        folder.mkdir()
        clips[c] = [_clip(folder / f"take{k}.wav", seed=1000 * c + k) for k in range(per_client)]
    # 429s are expected (90 jobs, 2 workers, a queue of 24): clients honour Retry-After.
    retry = RetryPolicy(max_attempts=30, backoff_base=0.5, backoff_max=4.0)

    def one(c: int) -> None:
        key = list(KEYS.values())[c % len(KEYS)]
        store = TaskStore(tmp_path / f"client{c}" / "tasks.sqlite3")
        with Client(key, served.base_url, store=store, retry=retry, poll_interval=0.2) as client:
            outcomes[c] = client.separate_many(
                clips[c], concurrency=3, return_exceptions=True, method="half", timeout=300
            )

    threads = [threading.Thread(target=one, args=(c,)) for c in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert not any(t.is_alive() for t in threads)

    task_ids = set()
    for c in range(n_clients):
        assert len(outcomes[c]) == per_client
        for source, result in zip(clips[c], outcomes[c], strict=True):
            assert not isinstance(result, Exception), (c, source, result)
            assert result.original == source.resolve()
            original, _ = sf.read(source, dtype="float32")
            fg, _ = sf.read(result.foreground, dtype="float32")
            bg, _ = sf.read(result.background, dtype="float32")
            # "half" splits the clip in two: its own noise, nobody else's
            assert np.allclose(fg + bg, original, atol=1e-4) and np.allclose(fg, bg, atol=1e-4)
            task_ids.add(result.task_id)
    assert len(task_ids) == n_clients * per_client  # no task lost or shared

    log = served.output()
    assert not re.search(r'" 5\d\d ', log), "a 5xx answer"
    with httpx.Client(base_url=served.base_url, headers={"x-api-key": ADMIN}) as admin:
        info = admin.get("/engine").json()
        listing = admin.get("/engine/tasks").json()["tasks"]
    assert info["workers"] == 2
    assert {t["task_id"] for t in listing} >= task_ids
    assert all(t["status"] == "SUCCESS" for t in listing if t["task_id"] in task_ids)
    for name in KEYS:
        assert info["keys"][name]["finished"] >= per_client * (n_clients // len(KEYS))
    for key in [*KEYS.values(), ADMIN]:
        assert key not in log


@pytest.mark.slow
def test_a_dask_worker_killed_mid_job_does_not_lose_the_job(
    served: Served, cluster: Any, clip: Path
):
    key = KEYS["student0"]
    with (
        httpx.Client(base_url=served.base_url, headers={"x-api-key": key}) as http,
        distributed.Client(cluster) as dask,
    ):
        task_id = submit(http, clip, method="slow").json()["task_id"]
        deadline = time.monotonic() + 60
        where = None
        while where is None:
            assert time.monotonic() < deadline, "the job never started on a worker"
            for address, keys in dask.processing().items():
                if any(str(k).startswith(f"camb-separate-{task_id}") for k in keys):
                    where = address
            time.sleep(0.05)
        # progress from the Dask worker reaches the status answer
        deadline = time.monotonic() + 60
        while (http.get(f"/audio-separation/{task_id}").json()["progress"] or 0) <= 5:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        pid = dask.run(os.getpid, workers=[where])[where]
        os.kill(pid, 9)
        status = wait_done(http, task_id, timeout=180)
    assert status["status"] == "SUCCESS", status
    assert httpx.get(status["foreground_audio_url"]).status_code == 200


@pytest.mark.slow
def test_cancel_on_dask_cancels_the_future_and_frees_the_queue(served: Served, clip: Path):
    """A cancelled job's future is cancelled: the task ends CANCELLED at once, the job is
    gone from the runner's queue, and a later result of it changes nothing."""
    key = KEYS["student1"]
    with httpx.Client(base_url=served.base_url, headers={"x-api-key": key}) as http:
        ids = [submit(http, clip, method="slow").json()["task_id"] for _ in range(3)]
        answers = [http.delete(f"/audio-separation/{t}") for t in ids]
        assert [a.status_code for a in answers] == [200] * 3
        for answer in answers:
            assert (answer.json()["status"], answer.json()["exception_reason"]) == (
                "ERROR",
                "CANCELLED",
            )
        with httpx.Client(base_url=served.base_url, headers={"x-api-key": ADMIN}) as admin:
            info = admin.get("/engine").json()
        assert info["queued"] == 0 and info["running"] == 0
        other = submit(http, clip, method="half").json()["task_id"]
        assert wait_done(http, other, timeout=120)["status"] == "SUCCESS"
        time.sleep(1.0)  # a cancelled job finishing late on a worker must not revive its task
        for task_id in ids:
            assert http.get(f"/audio-separation/{task_id}").json()["exception_reason"] == (
                "CANCELLED"
            )


@pytest.mark.slow
def test_object_store_storage_round_trip(clip: Path):
    """Uploads and stems behind a URL, not a path: copied to the worker and back.

    fsspec's ``memory://`` file system stands in for an object store; it is shared by the
    threads of one process, so the Dask cluster here runs its workers as threads beside the
    engine. Every storage step is the one an ``s3://`` URL takes.
    """
    fsspec = pytest.importorskip("fsspec")
    from camb_notebook.engine import EngineConfig, start_engine

    from ._methods import METHODS

    memory = fsspec.filesystem("memory")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        engine = start_engine(
            EngineConfig(
                api_key="object-store-key-0123",
                extra_methods=METHODS,
                scheduler=cluster.scheduler_address,
                storage="memory://camb-engine-test",
                result_ttl=2.0,
                cleanup_interval=0.2,
            )
        )
        try:
            headers = {"x-api-key": "object-store-key-0123"}
            with httpx.Client(base_url=engine.base_url, headers=headers) as http:
                task_id = submit(http, clip, method="half").json()["task_id"]
                status = wait_done(http, task_id)
                assert status["status"] == "SUCCESS", status
                stored = memory.ls(f"/camb-engine-test/{task_id}/out", detail=False)
                assert sorted(Path(p).name for p in stored) == [
                    "background.flac",
                    "foreground.flac",
                ]
                assert not memory.exists(f"/camb-engine-test/{task_id}/in")  # upload dropped
                answer = httpx.get(status["foreground_audio_url"])
                assert answer.status_code == 200
                assert answer.content == memory.cat(
                    f"/camb-engine-test/{task_id}/out/foreground.flac"
                )
                deadline = time.monotonic() + 20
                while memory.exists(f"/camb-engine-test/{task_id}"):
                    assert time.monotonic() < deadline, "expired stems were not deleted"
                    time.sleep(0.1)
        finally:
            engine.stop()
