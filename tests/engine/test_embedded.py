"""The embedded engine: one per process, lazily started, keyed, gone at exit; serve()'s guard."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import httpx
import psutil
import pytest

from camb_notebook import ConfigurationError
from camb_notebook.engine import local_engine, serve


def test_local_engine_is_one_shared_keyed_instance():
    handles = []
    threads = [threading.Thread(target=lambda: handles.append(local_engine())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(h) for h in handles}) == 1
    engine = handles[0]
    assert engine.base_url.startswith("http://127.0.0.1:") and engine.base_url.endswith("/apis")
    assert engine.api_key and len(engine.api_key) >= 32
    assert engine.api_key not in repr(engine)
    assert httpx.get(f"{engine.base_url}/engine").status_code == 401
    info = httpx.get(f"{engine.base_url}/engine", headers={"x-api-key": engine.api_key})
    assert info.status_code == 200
    assert local_engine() is engine


def test_engine_stops_at_interpreter_exit():
    """A child interpreter starts the embedded engine and exits: port and workers are gone."""
    script = textwrap.dedent(
        """
        import json, os, time
        from camb_notebook.engine import local_engine
        engine = local_engine()
        deadline = time.monotonic() + 30
        while not engine.state.runner.worker_pids() and time.monotonic() < deadline:
            time.sleep(0.05)  # prewarm starts the worker in the background
        print(json.dumps({"url": engine.base_url, "workers": engine.state.runner.worker_pids(),
                          "root": str(engine.state.root)}), flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["workers"], report
    with pytest.raises(httpx.ConnectError):
        httpx.get(report["url"] + "/engine", timeout=2)
    deadline = time.monotonic() + 5
    while any(psutil.pid_exists(p) for p in report["workers"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(
        psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        for p in report["workers"]
    )
    assert "Traceback" not in done.stderr, done.stderr


def test_serve_refuses_the_network_without_a_key():
    with pytest.raises(ConfigurationError, match=r"0\.0\.0\.0.*API key"):
        serve("0.0.0.0", 0)
    with pytest.raises(ConfigurationError, match="workers=0"):
        serve("127.0.0.1", 0, workers=0)


def test_folders_of_dead_engines_are_swept(tmp_path):
    from camb_notebook.engine import EngineConfig, start_engine

    dead = tmp_path / "instance-999999999-abcdef"
    (dead / "task").mkdir(parents=True)
    alive = tmp_path / f"instance-{os.getppid()}-abcdef"
    alive.mkdir()
    engine = start_engine(EngineConfig(root=tmp_path))
    try:
        assert not dead.exists()
        assert alive.exists()
        assert engine.state.root.parent == tmp_path and engine.state.root.exists()
    finally:
        engine.stop()
    assert not engine.state.root.exists()


def test_importing_the_engine_does_not_load_fastapi():
    code = (
        "import sys, camb_notebook.engine; "
        "print(sorted({'fastapi', 'uvicorn', 'numpy'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_runs_in_the_foreground_and_stops_on_interrupt(tmp_path):
    port = _free_port()
    code = (
        "from camb_notebook.engine import serve; "
        f"serve('127.0.0.1', {port}, api_key='shared-key', workers=1, root={str(tmp_path)!r})"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    answer = httpx.get(
                        f"http://127.0.0.1:{port}/apis/engine", headers={"x-api-key": "shared-key"}
                    )
                    break
                except httpx.ConnectError:
                    assert child.poll() is None, child.stderr.read()
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            assert answer.status_code == 200
            assert httpx.get(f"http://127.0.0.1:{port}/apis/engine").status_code == 401
        finally:
            child.send_signal(signal.SIGINT)
            _, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert "shared-key" not in stderr
    assert not list(tmp_path.glob("instance-*")), "the server left its folder behind"
