"""The embedded engine inside a real IPython kernel (ipykernel 7): it starts, separates,
and the kernel keeps answering while a real, CPU-bound separation runs in a worker process."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import httpx
import jupyter_client
import psutil
import pytest

from camb_notebook.methods import available_methods

ROOT = Path(__file__).resolve().parents[2]

#: A clip long enough that the default method (the hybrid; Spleeter without DeepFilterNet3)
#: works for seconds even on an idle machine (about 10 s of CPU for 60 s of stereo 44.1 kHz,
#: Spleeter's alone about 5 s; benchmarks/RESULTS.md).
CLIP_SECONDS = 60.0
#: The separation must have cost the worker at least this much CPU: a sleeping job costs none.
MIN_WORKER_CPU = 1.0
#: Cells run while the job runs.
REPLIES = 5


def _run(kc, code: str, timeout: float = 120.0) -> tuple[str, float]:
    """Execute *code*; return its stdout and how long the reply took."""
    started = time.monotonic()
    msg_id = kc.execute(textwrap.dedent(code))
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "stream":
            out.append(msg["content"]["text"])
        elif kind == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out), time.monotonic() - started


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


@pytest.mark.slow
def test_engine_in_a_kernel_separates_without_stalling_it(tmp_path: Path):
    km = jupyter_client.KernelManager(kernel_name="python3")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    km.start_kernel(cwd=str(tmp_path), env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        out, _ = _run(
            kc,
            f"""
            import os, pathlib
            from camb_notebook.engine import EngineConfig, start_engine
            from tests.engine.conftest import write_clip
            engine = start_engine(EngineConfig(api_key="k", prewarm=True))
            clip = write_clip(pathlib.Path({str(tmp_path)!r}) / "k.wav",
                              seconds={CLIP_SECONDS}, sr=44100)
            print(os.getpid(), engine.base_url, clip)
            """,
        )
        kernel_pid, base_url, clip = out.split()
        kernel = psutil.Process(int(kernel_pid))
        with httpx.Client(base_url=base_url, headers={"x-api-key": "k"}, timeout=60) as c:
            with open(clip, "rb") as f:
                answer = c.post("/audio-separation", files={"media_file": ("k.wav", f)})
            task_id = answer.json()["task_id"]

            def status() -> dict:
                return c.get(f"/audio-separation/{task_id}").json()

            deadline = time.monotonic() + 300
            while not (status()["progress"] or 0) > 5:  # the worker has the job
                assert time.monotonic() < deadline, status()
                time.sleep(0.1)
            running_since = time.monotonic()
            busy, _ = _run(kc, f"print(engine.state.runner.busy_pids()[{task_id!r}])")
            worker = psutil.Process(int(busy))
            worker_cpu, kernel_cpu = _cpu(worker), _cpu(kernel)

            # While the job runs, short cells come back at once. A few are enough, and each
            # costs the kernel some CPU, which is measured below: then just wait.
            during: list[float] = []
            while (now := status())["status"] == "PENDING":
                if len(during) < REPLIES:
                    _, took = _run(kc, "1 + 1")
                    if status()["status"] == "PENDING":
                        during.append(took)  # answered while the job ran
                time.sleep(0.5)
            job_seconds = time.monotonic() - running_since
            worker_cpu, kernel_cpu = _cpu(worker) - worker_cpu, _cpu(kernel) - kernel_cpu

        assert now["status"] == "SUCCESS", now
        assert now["method"] == available_methods()[0], now  # the default
        # A real separation: seconds of CPU, spent in the worker and not in the kernel.
        assert worker_cpu >= MIN_WORKER_CPU, (worker_cpu, kernel_cpu)
        assert kernel_cpu < worker_cpu / 2, (worker_cpu, kernel_cpu)
        # The kernel answered again and again while the job ran, each time in a small part of
        # the job's time (a kernel blocked by the job answers once, after it).
        assert len(during) >= 3, (during, job_seconds)
        assert max(during) < job_seconds / 3, (during, job_seconds)
        out, _ = _run(kc, "engine.stop(); print('stopped')")
        assert out.split() == ["stopped"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
