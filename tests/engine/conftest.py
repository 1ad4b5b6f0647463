"""Engines on loopback for the engine tests, and real clips to send them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from camb_notebook.engine import EngineConfig, EngineHandle, start_engine

from ._methods import METHODS

SR = 22050
KEY = "engine-test-key-0123456789"


def make_clip(seconds: float = 2.0, sr: int = SR, channels: int = 2) -> np.ndarray:
    """A deterministic test signal (channels, n): a melody over steady noise."""
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(7)
    melody = 0.25 * np.sin(2 * np.pi * (330 + 110 * np.floor(t * 4) % 3) * t)
    bed = 0.05 * rng.standard_normal((channels, t.size))
    x = melody[None, :] * np.linspace(1.0, 0.6, channels)[:, None] + bed
    return x.astype(np.float32)


def write_clip(path: Path, seconds: float = 2.0, sr: int = SR, channels: int = 2) -> Path:
    sf.write(path, make_clip(seconds, sr, channels).T, sr, subtype="PCM_16")
    return path


def start(**changes: Any) -> EngineHandle:
    """Start an engine with the test methods registered and the test key."""
    config = EngineConfig(api_key=KEY, extra_methods=METHODS, **changes)
    return start_engine(config)


def wait_done(client: httpx.Client, task_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll the status call until the task is no longer PENDING."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(f"/audio-separation/{task_id}")
        assert answer.status_code == 200, answer.text
        status = answer.json()
        if status["status"] != "PENDING":
            return status
        assert time.monotonic() < deadline, f"task {task_id} still PENDING: {status}"
        time.sleep(0.05)


def wait_running(client: httpx.Client, task_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll the status call until the task is running (past 5 %)."""
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"/audio-separation/{task_id}").json()
        if status["progress"] and status["progress"] > 5:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def submit(client: httpx.Client, path: Path, **data: Any) -> httpx.Response:
    with path.open("rb") as f:
        return client.post(
            "/audio-separation",
            files={"media_file": (path.name, f)},
            data={k: str(v) for k, v in data.items()},
        )


@pytest.fixture(scope="module")
def engine() -> Iterator[EngineHandle]:
    """One engine per test module: 1 worker, generous limits, the test methods."""
    handle = start(max_duration=60.0)
    yield handle
    handle.stop()


@pytest.fixture
def client(engine: EngineHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("engine-clips") / "clip.wav")


# -- `camb-notebook serve` in a process of its own ---------------------------------------------

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    """A ``camb-notebook serve`` child process and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/apis"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (a crash, a power cut of the process)."""
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(60)


def serve_process(log_dir: Path, *args: str, port: int | None = None) -> Served:
    """``camb-notebook serve --port PORT ARGS`` with the test methods, once it answers."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "camb_notebook.cli", "serve", "--port", str(port), *args]
    for name, target in METHODS.items():
        cmd += ["--extra-method", f"{name}={target}"]
    log = log_dir / f"serve-{port}-{time.monotonic_ns()}.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    served = Served(process, port, log)
    deadline = time.monotonic() + 90
    while True:
        try:
            httpx.get(f"{served.base_url}/engine", timeout=2)
            return served
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:
                    served.stop()
                raise AssertionError(f"serve did not come up:\n{served.output()}") from None
            time.sleep(0.1)
