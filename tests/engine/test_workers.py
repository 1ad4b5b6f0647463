"""Worker processes: crashes, time-outs, back-pressure and shutdown never leave a task hanging;
the job they run streams (decode, separate, write) and never leaves a half-written stem."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from camb_notebook.audio import load, rms_db
from camb_notebook.engine import _worker
from camb_notebook.engine._jobs import JobSpec

from .conftest import KEY, make_clip, start, submit, wait_done, wait_running, write_clip


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


# -- the streamed job, in-process (run_job is what a worker runs) ------------------------------


class _Loud:
    """Foreground 1.5 × the mixture: FLAC must clip it, and say how much."""

    name = "loud"

    def separate(self, audio, sr, progress=None):
        fg = (1.5 * audio).astype(np.float32)
        return fg, (audio - fg).astype(np.float32)


class _FailsHalfWay:
    """A streaming method that breaks after its first output block."""

    name = "fails"

    def separate(self, audio, sr, progress=None):  # pragma: no cover - not called
        raise AssertionError

    def stream(self, sr, channels, *, total=None, progress=None):
        method = self

        class Sep:
            def __init__(self):
                self.sr, self.channels, self.n = sr, channels, 0

            def push(self, block):
                self.n += 1
                if self.n > 2:
                    raise RuntimeError(f"{method.name}: the model ran out of memory")
                return [(block, 0 * block)]

            def finish(self):
                return []

        return Sep()


def _job(tmp_path: Path, clip: Path, method: str, fmt: str = "flac") -> JobSpec:
    return JobSpec(
        job_id="t",
        input_path=str(clip),
        out_dir=str(tmp_path / "out"),
        method=method,
        output_format=fmt,
    )


@pytest.fixture
def methods(monkeypatch: pytest.MonkeyPatch) -> dict:
    """The worker's method cache, with the in-process test methods added."""
    cache = {("loud", None): (_Loud(), None), ("fails", None): (_FailsHalfWay(), None)}
    monkeypatch.setattr(_worker, "_METHODS", cache)
    return cache


@pytest.mark.parametrize("name", ["repet", "spleeter"])
def test_streamed_job_stores_what_the_method_gives_for_the_whole_clip(
    tmp_path: Path, name: str
) -> None:
    from camb_notebook.methods import get_method, spleeter_available

    if name == "spleeter" and not spleeter_available():
        pytest.skip("Spleeter weights not installed")
    clip = write_clip(tmp_path / "in.flac", seconds=31.0, sr=22050)
    seen: list[float] = []
    result = _worker.run_job(_job(tmp_path, clip, name, fmt="wav"), seen.append)
    x, sr = load(clip)
    fg, bg = get_method(name).separate(x, sr)
    out = tmp_path / "out"
    stored = [
        sf.read(out / result.files[s], dtype="float32")[0].T for s in ("foreground", "background")
    ]
    np.testing.assert_array_equal(stored[0], fg)  # float WAV: bit for bit
    np.testing.assert_array_equal(stored[1], bg)
    assert (result.frames, result.sample_rate, result.channels) == (x.shape[1], 22050, 2)
    assert result.residual_dbfs <= -100
    assert seen == sorted(seen) and seen[-1] == 1.0 and len([p for p in seen if 0.1 < p < 0.9])
    assert sorted(p.name for p in out.iterdir()) == ["background.wav", "foreground.wav"]


def test_flac_clipping_is_counted_and_the_residual_is_that_of_the_stored_stems(
    tmp_path: Path, methods
) -> None:
    x = make_clip(seconds=5.0, sr=8000)
    x *= 0.9 / np.abs(x).max()  # the foreground (1.5 x) goes past full scale
    clip = tmp_path / "in.wav"
    sf.write(clip, x.T, 8000, subtype="FLOAT")
    flac = _worker.run_job(_job(tmp_path, clip, "loud"))
    assert flac.files == {"foreground": "foreground.flac", "background": "background.flac"}
    expected_clips = int(np.count_nonzero(np.abs(1.5 * x) > 1.0))
    assert flac.clipped_samples == expected_clips > 0
    stored = [sf.read(tmp_path / "out" / flac.files[s], dtype="float32")[0].T for s in flac.files]
    residual = x - stored[0] - stored[1]
    assert flac.residual_dbfs == pytest.approx(rms_db(residual), abs=1e-6)
    assert flac.residual_rel_db == pytest.approx(rms_db(residual) - rms_db(x), abs=1e-6)

    wav = _worker.run_job(_job(tmp_path, clip, "loud", fmt="wav"))
    back = sf.read(tmp_path / "out" / wav.files["foreground"], dtype="float32")[0].T
    assert wav.clipped_samples == 0 and np.array_equal(back, (1.5 * x).astype(np.float32))
    assert wav.residual_dbfs == -120.0


def test_a_source_corrupt_in_the_middle_fails_and_leaves_no_stem(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "in.flac", seconds=20.0)
    data = bytearray(clip.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 20_000] = bytes(20_000)  # the header stays sound
    clip.write_bytes(data)
    with pytest.raises(_worker.JobError, match=r"in\.flac: .*decoding stopped at \d+\.\d+ s") as e:
        _worker.run_job(_job(tmp_path, clip, "repet"))
    assert e.value.reason == "INVALID_SOURCE_DATA"
    assert list((tmp_path / "out").iterdir()) == []  # no stem, no temporary file


def test_a_method_failing_half_way_leaves_no_stem(tmp_path: Path, methods) -> None:
    clip = write_clip(tmp_path / "in.wav", seconds=10.0)
    with pytest.raises(RuntimeError, match="ran out of memory"):
        _worker.run_job(_job(tmp_path, clip, "fails"))
    assert list((tmp_path / "out").iterdir()) == []
    names = {t.name for t in threading.enumerate()}
    assert not names & {"decoder", "stem-writer"}  # the job's threads are gone


@pytest.mark.slow
def test_job_memory_does_not_grow_with_the_clip(tmp_path: Path) -> None:
    """Peak allocation (tracemalloc: numpy, decoder, encoder buffers) for 1x and 4x the clip."""
    import tracemalloc

    def peak(seconds: float) -> int:
        clip = tmp_path / f"in{seconds:.0f}.flac"
        with sf.SoundFile(clip, "w", 22050, 2, subtype="PCM_16") as f:
            for _ in range(int(seconds / 10)):
                f.write(make_clip(seconds=10.0).T)
        tracemalloc.start()
        try:
            _worker.run_job(_job(tmp_path / f"{seconds:.0f}", clip, "repet"))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    short, long = peak(80.0), peak(320.0)
    # 240 s more of 22.05 kHz stereo float32 is 42 MB per copy held whole
    assert long < 1.05 * short + 4e6, (short, long)


@pytest.mark.slow
def test_cancel_stops_the_running_job_and_the_next_one_starts_at_once(clip: Path):
    """``DELETE /audio-separation/{id}`` (engine extra): the worker is stopped, not left busy."""
    engine = start(workers=1)
    try:
        with _client(engine) as client:
            first = submit(client, clip, method="slow_long").json()["task_id"]
            wait_running(client, first)
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
                wait_running(raw, task.task_id)
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


@pytest.mark.slow
def test_a_warm_worker_paces_its_first_short_job_from_the_start(tmp_path: Path):
    """An 11 s clip is one block of the streamed spleeter: its only report is the end. A worker
    that warmed up (``prewarm``) knows the pace before its first job, so even that job's
    progress moves between 5 % and the end; a cold worker has nothing to go by. (The job takes
    well under a second on an idle machine: a look or two between the ends is all there is.)"""
    clip = write_clip(tmp_path / "eleven.wav", seconds=11.0)
    engine = start(workers=1, prewarm=True, default_method="spleeter")  # warms spleeter
    try:
        with _client(engine) as client:
            task_id = submit(client, clip, method="spleeter").json()["task_id"]
            seen = _progress_seen(client, task_id)
            assert client.get(f"/audio-separation/{task_id}").json()["status"] == "SUCCESS"
            assert [p for p in seen if 5 < p < 90], seen
            assert seen == sorted(seen), seen
    finally:
        engine.stop()
    cold = start(workers=1)
    try:
        with _client(cold) as client:
            seen = _progress_seen(client, submit(client, clip, method="spleeter").json()["task_id"])
            # only the method's own reports: the start, and its end (94.9 %) before storing
            assert [p for p in seen if 5 < p < 90] == [], seen
    finally:
        cold.stop()


def test_the_pace_of_earlier_jobs_leads_until_the_method_has_reported_twice(monkeypatch):
    """A stream's first report comes late and small (a block is finished only once the next
    overlaps it); the pace of earlier jobs, not that first report, sets the estimate."""
    monkeypatch.setitem(_worker._PACE, "m", 1.0)  # one second per second of audio
    sent: list[float] = []
    pacer = _worker._Pacer(sent.append, "m", audio_seconds=10.0)
    pacer._start -= 4.0  # four of the ten expected seconds have passed
    pacer(0.01)
    assert 0.35 < pacer._estimate() < 0.45  # type: ignore[operator]
    pacer._start -= 2.0
    pacer(0.6)  # the second report: the method's own pace (0.6 in ~6 s) takes over
    estimate = pacer._estimate()
    assert estimate is not None and 0.6 <= estimate <= 0.6 + 0.9 * 0.59, estimate
    monkeypatch.delitem(_worker._PACE, "m")
    cold = _worker._Pacer(sent.append, "m", audio_seconds=10.0)
    assert cold._estimate() is None  # no pace known, no report yet: nothing made up
    assert sent == [0.01, 0.6]


@pytest.mark.skipif(
    not os.path.exists("/proc/self/maps") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc's malloc arenas",
)
def test_a_worker_process_threads_share_one_malloc_arena() -> None:
    """The worker module limits glibc to one malloc arena on import (the forkserver pre-loads
    it): with one arena per thread, each thread kept what it freed apart and the hybrid's
    engine job peaked ~60 MB higher. glibc's malloc_stats() lists the arenas on stderr."""
    import subprocess
    import sys

    code = (
        "import ctypes, ctypes.util, sys, threading\n"
        "if 'worker' in sys.argv:\n"
        "    import camb_notebook.engine._worker\n"
        "libc = ctypes.CDLL(ctypes.util.find_library('c'))\n"
        "libc.malloc.restype = ctypes.c_void_p\n"
        "kept = []\n"
        "def alloc():\n"
        "    kept.append(libc.malloc(1000))\n"
        "for t in [threading.Thread(target=alloc) for _ in range(4)]:\n"
        "    t.start(); t.join()\n"
        "libc.malloc_stats()\n"
    )
    root = Path(__file__).resolve().parents[2]

    def arenas(*args: str) -> int:
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=root
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stderr.count("Arena ")

    assert arenas() > 1  # the check can see per-thread arenas
    assert arenas("worker") == 1
