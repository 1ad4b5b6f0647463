"""The steps of a submission: what the engine checks, what job it builds, how it refuses.

The app is served on loopback with a runner that keeps the jobs it is given instead of running
them (the engine's ``JobRunner`` seam), so each test sees exactly the job a submission became.
Separations end to end are in test_blackbox.py; bad audio in test_validation.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
import uvicorn
from fastapi import HTTPException

from camb_notebook.engine import EngineConfig, create_app
from camb_notebook.engine._jobs import JobSpec
from camb_notebook.engine._pool import QueueFull
from camb_notebook.engine._submit import queue_full, run_id_taken

from ._methods import METHODS
from .conftest import KEY, write_clip


class KeepJobs:
    """A JobRunner that accepts (or refuses) jobs and never runs them."""

    def __init__(self) -> None:
        self.jobs: list[JobSpec] = []
        self.refuse_with: float | None = None  # QueueFull(retry_after) on the next submit

    def submit(self, spec: JobSpec, force: bool = False) -> None:
        if self.refuse_with is not None and not force:
            raise QueueFull(self.refuse_with)
        self.jobs.append(spec)

    def capacity(self) -> int:
        return 1

    def queued(self) -> int:
        return 0

    def running(self) -> int:
        return 0

    def position(self, job_id: str) -> int | None:
        return None

    def retry_after(self) -> float:
        return 1.0

    def shutdown(self, timeout: float = 5.0) -> None:
        pass


@pytest.fixture
def runner() -> KeepJobs:
    return KeepJobs()


class Served(httpx.Client):
    """A client of the served app; ``state`` is the app's EngineState."""

    state: object


@contextlib.contextmanager
def _app(runner: KeepJobs, tmp_path: Path, **config: object) -> Iterator[Served]:
    settings = {"api_key": KEY, "extra_methods": METHODS, "root": tmp_path / "root", **config}
    app = create_app(EngineConfig(**settings), runner=runner)  # type: ignore[arg-type]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.01)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/apis"
    try:
        with Served(base_url=base, headers={"x-api-key": KEY}, timeout=30) as client:
            client.state = app.state.engine
            yield client
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def app(runner: KeepJobs, tmp_path: Path) -> Iterator[Served]:
    with _app(runner, tmp_path, max_duration=90.0, min_duration=0.5, max_bytes=5_000_000) as c:
        yield c


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "Clip.WAV", seconds=0.5)


def _post(client: Served, path: Path, **data: object) -> httpx.Response:
    with path.open("rb") as f:
        return client.post(
            "/audio-separation",
            files={"media_file": (path.name, f)},
            data={k: str(v) for k, v in data.items()},
        )


def _detail(answer: httpx.Response) -> list[dict]:
    assert answer.status_code == 422, answer.text
    return answer.json()["detail"]


def test_a_submission_becomes_one_job_with_the_engine_limits(
    app: Served, runner: KeepJobs, wav: Path
) -> None:
    answer = _post(app, wav, method="half", project_name="p", folder_id=4, unknown_field="x")
    assert answer.status_code == 200 and set(answer.json()) == {"task_id"}
    [job] = runner.jobs
    task_id = answer.json()["task_id"]
    assert job.job_id == task_id and job.method == "half" and job.output_format == "flac"
    assert (job.max_duration, job.min_duration, job.max_bytes) == (90.0, 0.5, 5_000_000)
    assert job.extra_methods == METHODS
    # The upload was moved into the task's folder under a name of the engine's choosing.
    assert job.input_path.endswith(f"{task_id}/in/input.wav")
    assert Path(job.input_path).read_bytes() == wav.read_bytes()
    assert Path(job.out_dir).parent == Path(job.input_path).parent.parent
    status = app.get(f"/audio-separation/{task_id}").json()
    assert status["status"] == "PENDING" and status["exception_reason"] is None
    # Nothing is left in staging folders.
    assert not [p for p in Path(job.input_path).parents[2].glob("upload-*")]


def test_without_method_or_format_the_engine_defaults_apply(runner: KeepJobs, tmp_path: Path):
    wav = write_clip(tmp_path / "a.flac", seconds=0.5)
    with _app(runner, tmp_path, default_method="repet", default_format="wav") as client:
        assert _post(client, wav).status_code == 200
        assert _post(client, wav, format="flac", method="half").status_code == 200
    first, second = runner.jobs
    assert (first.method, first.output_format) == ("repet", "wav")
    assert (second.method, second.output_format) == ("half", "flac")
    assert first.input_path.endswith("/in/input.flac")


def test_the_older_file_field_name_is_accepted(app: Served, runner: KeepJobs, wav: Path):
    with wav.open("rb") as f:
        answer = app.post("/audio-separation", files={"audio_file": ("x.wav", f)})
    assert answer.status_code == 200 and len(runner.jobs) == 1


def test_a_missing_file_is_named_with_both_field_names(app: Served, runner: KeepJobs):
    [error] = _detail(app.post("/audio-separation", data={"method": "half"}))
    assert error == {
        "type": "missing",
        "loc": ["body", "media_file"],
        "msg": "Field required (send the audio as media_file or audio_file)",
        "input": None,
    }
    assert runner.jobs == []


def test_an_unknown_method_lists_the_known_ones(app: Served, wav: Path) -> None:
    [error] = _detail(_post(app, wav, method="nosuch"))
    assert error["loc"] == ["body", "method"] and error["input"] == "nosuch"
    assert error["type"] == "value_error"
    assert error["msg"].startswith("unknown method 'nosuch'; available: ")
    names = error["msg"].split("available: ")[1].split(", ")
    assert {"repet", "spleeter", "half", "slow"} <= set(names) and names == sorted(names)


@pytest.mark.parametrize(
    ("field", "value"),
    [("folder_id", "three"), ("format", "mp3"), ("method", "../etc"), ("method", "x" * 65)],
)
def test_bad_fields_are_422_at_their_place(
    app: Served, runner: KeepJobs, wav: Path, field: str, value: str
) -> None:
    errors = _detail(_post(app, wav, **{field: value}))
    assert [e["loc"] for e in errors] == [["body", field]]
    assert runner.jobs == []


def test_a_malformed_body_is_422(app: Served) -> None:
    answer = app.post(
        "/audio-separation",
        content=b"--x\r\n\x00broken\r\n\r\n",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    [error] = _detail(answer)
    assert error["loc"] == ["body"] and error["msg"].startswith("malformed multipart body")


def _raw_post(
    client: Served, declared: int, body: bytes, run_id: int | None = None
) -> tuple[int, dict[str, str], bytes]:
    """POST with a Content-Length of *declared* but only *body* sent (httpx sends it all)."""
    url = httpx.URL(str(client.base_url))
    query = "" if run_id is None else f"?run_id={run_id}"
    head = (
        f"POST {url.path.rstrip('/')}/audio-separation{query} HTTP/1.1\r\n"
        f"Host: {url.host}:{url.port}\r\n"
        f"x-api-key: {KEY}\r\nContent-Type: text/plain\r\nContent-Length: {declared}\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    header_block, _, payload = rest.partition(b"\r\n\r\n")
    # Names are case-insensitive, values as sent (``Connection: close`` must be the token).
    pairs = [line.decode().split(": ", 1) for line in header_block.split(b"\r\n") if line]
    headers = {name.lower(): value for name, value in pairs}
    return int(status_line.split()[1]), headers, payload


def test_a_declared_length_beyond_the_limit_fails_the_task_unread(
    runner: KeepJobs, tmp_path: Path
) -> None:
    slack = 1024 * 1024  # room the engine leaves for the multipart wrapping
    with _app(runner, tmp_path, max_bytes=1000) as client:
        # At the limit the body is read (and, being no form, holds no file) ...
        code, _, payload = _raw_post(client, 1000 + slack, b"x" * (1000 + slack))
        assert code == 422 and b"media_file" in payload
        # ... one byte more and the answer comes before a byte of the body is sent.
        code, headers, payload = _raw_post(client, 1000 + slack + 1, b"")
        assert code == 200 and headers["connection"] == "close"
        task_id = json.loads(payload)["task_id"]
        status = client.get(f"/audio-separation/{task_id}").json()
    assert status["status"] == "ERROR" and status["exception_reason"] == "SOURCE_TOO_LARGE"
    assert status["message"] == (
        "the upload passed 1.0 MiB, larger than this engine's limit of 0.0 MiB; "
        "compress it (e.g. to FLAC or MP3) or split it"
    )
    assert runner.jobs == []


def test_a_streamed_upload_past_the_limit_fails_the_task(runner: KeepJobs, tmp_path: Path):
    wav = write_clip(tmp_path / "big.wav", seconds=2.0)  # about 176 kB
    with _app(runner, tmp_path, max_bytes=20_000) as client:
        answer = _post(client, wav)
        status = client.get(f"/audio-separation/{answer.json()['task_id']}").json()
    assert status["exception_reason"] == "SOURCE_TOO_LARGE"
    assert status["message"].startswith("the upload passed 0.")  # MiB: cut off early
    assert "limit of 0.0 MiB" in status["message"] and runner.jobs == []


def test_a_content_length_that_is_not_a_number_is_ignored() -> None:
    from camb_notebook.engine._submit import receive

    class Request:  # what receive() reads of a request
        headers: ClassVar = {"content-length": "lots", "content-type": "text/plain"}

        async def stream(self) -> AsyncIterator[bytes]:
            yield b""

    upload = asyncio.run(receive(Request(), 10, Path("/nonexistent")))  # type: ignore[arg-type]
    assert upload.size == 0 and not upload.too_large and upload.path is None


def test_a_queue_that_fills_during_the_upload_refuses_with_retry_after(
    app: Served, runner: KeepJobs, wav: Path
) -> None:
    runner.refuse_with = 2.6
    answer = _post(app, wav)
    assert answer.status_code == 429 and answer.headers["retry-after"] == "3"
    assert answer.json()["detail"] == "the engine's job queue is full; retry in 3 s"
    runner.refuse_with = None
    assert _post(app, wav).status_code == 200
    # The refused task was forgotten: the engine knows one task, the accepted one.
    [job] = runner.jobs
    assert list(app.state.tasks._tasks) == [job.job_id]  # type: ignore[attr-defined]


def test_a_run_id_in_use_is_409(app: Served, runner: KeepJobs, wav: Path) -> None:
    with wav.open("rb") as f:
        first = app.post("/audio-separation", files={"media_file": f}, params={"run_id": 77})
    assert first.status_code == 200
    with wav.open("rb") as f:
        second = app.post("/audio-separation", files={"media_file": f}, params={"run_id": 77})
    assert second.status_code == 409
    assert second.json()["detail"] == "run_id 77 is already in use; omit it or pick another"
    assert len(runner.jobs) == 1


@pytest.mark.parametrize(("hint", "header"), [(0.2, "1"), (1.4, "1"), (2.5, "2"), (59.6, "60")])
def test_queue_full_answers_whole_seconds_of_at_least_one(hint: float, header: str) -> None:
    error = queue_full(hint)
    assert isinstance(error, HTTPException) and error.status_code == 429
    assert error.headers == {"Retry-After": header}
    assert error.detail == f"the engine's job queue is full; retry in {header} s"


def test_run_id_taken() -> None:
    error = run_id_taken(5)
    assert error.status_code == 409 and "run_id 5 is already in use" in error.detail


def test_a_key_at_its_limit_is_429_with_retry_after(
    runner: KeepJobs, tmp_path: Path, wav: Path
) -> None:
    # The kept jobs never finish: the key stays at its limit of one.
    with _app(runner, tmp_path, max_jobs_per_key=1) as client:
        assert _post(client, wav).status_code == 200
        for hint, seconds in [(2.6, "3"), (0.2, "1")]:
            runner.retry_after = lambda hint=hint: hint  # type: ignore[method-assign]
            refused = _post(client, wav)
            assert refused.status_code == 429 and refused.headers["retry-after"] == seconds
            assert refused.json()["detail"] == (
                "your key (default) already has 1 jobs waiting or "
                f"running, this engine's limit per key; retry in {seconds} s, once one of them "
                "has finished"
            )
        assert len(runner.jobs) == 1
        refusals = client.state.metrics.registry.get_sample_value(  # type: ignore[attr-defined]
            "camb_engine_refusals_total", {"key": "default", "cause": "key_limit"}
        )
        assert refusals == 2


def test_an_upload_too_large_keeps_its_run_id_and_says_both_sizes(
    runner: KeepJobs, tmp_path: Path
) -> None:
    slack = 1024 * 1024
    # persist: the failed task is saved like any other (its row needs every field).
    with _app(runner, tmp_path, max_bytes=3 * 2**20, persist=True) as client:
        code, _, payload = _raw_post(client, 4 * 2**20 + slack, b"", run_id=55)
        assert code == 200
        status = client.get(f"/audio-separation/{json.loads(payload)['task_id']}").json()
        # The failed task holds the run_id it asked for, like any task: it is taken.
        code, _, payload = _raw_post(client, 4 * 2**20 + slack, b"", run_id=55)
        assert code == 409, payload
    assert status["message"] == (
        "the upload passed 5.0 MiB, larger than this engine's limit of 3.0 MiB; "
        "compress it (e.g. to FLAC or MP3) or split it"
    )
