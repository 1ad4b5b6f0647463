"""The embedded engine inside a real IPython kernel (ipykernel 7): it starts, separates,
and the kernel keeps answering while a job runs in the worker process."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import jupyter_client
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(kc, code: str, timeout: float = 60.0) -> tuple[str, float]:
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


@pytest.mark.slow
def test_engine_in_a_kernel_separates_without_stalling_it(tmp_path: Path):
    km = jupyter_client.KernelManager(kernel_name="python3")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    km.start_kernel(cwd=str(tmp_path), env=env)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        _run(
            kc,
            f"""
            import httpx, time
            from camb_notebook.engine import EngineConfig, start_engine
            from tests.engine._methods import METHODS
            from tests.engine.conftest import write_clip
            engine = start_engine(EngineConfig(api_key="k", extra_methods=METHODS))
            c = httpx.Client(base_url=engine.base_url, headers={{"x-api-key": "k"}})
            clip = write_clip(__import__("pathlib").Path({str(tmp_path)!r}) / "k.wav")
            tid = c.post("/audio-separation", files={{"media_file": clip.open("rb")}},
                         data={{"method": "slow"}}).json()["task_id"]
            """,
        )
        # While the 3 s job runs, short cells come back at once.
        replies = [_run(kc, "1 + 1")[1] for _ in range(5)]
        assert max(replies) < 1.0, replies
        out, _ = _run(
            kc,
            """
            while (s := c.get(f"/audio-separation/{tid}").json())["status"] == "PENDING":
                time.sleep(0.1)
            print(s["status"], s["method"], s["progress"])
            engine.stop()
            """,
        )
        assert out.split() == ["SUCCESS", "slow", "100.0"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
