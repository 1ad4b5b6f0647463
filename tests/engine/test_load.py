"""Load on loopback: 50 concurrent submissions while another process polls steadily.

The engine runs in its own process (so its memory can be measured alone) with one
worker and a queue of 8: most of the 50 first attempts must be refused with 429 and a
``Retry-After``; each submitter then waits that long and tries again. In the end
every task is accepted and finishes, no answer is a 5xx, and the server's memory
stays bounded.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from .conftest import KEY, write_clip

ROOT = Path(__file__).resolve().parents[2]
N_SUBMISSIONS = 50
MAX_QUEUE = 8
#: Growth of the server's resident memory allowed over the run.
MEMORY_BUDGET = 150 * 2**20


@pytest.fixture
def server():
    options = {"api_key": KEY, "workers": 1, "max_queue": MAX_QUEUE, "worker_nice": 0}
    with subprocess.Popen(
        [sys.executable, "-m", "tests.engine._serve_child", json.dumps(options)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            line = child.stdout.readline()
            assert line, "the engine process did not start"
            yield json.loads(line)["base_url"], child.pid
        finally:
            child.stdin.close()
            child.wait(30)


async def _submit_until_accepted(
    client: httpx.AsyncClient, payload: bytes, log: list[int], deadline: float
) -> str:
    while True:
        answer = await client.post(
            "/audio-separation",
            files={"media_file": ("load.wav", payload)},
            data={"method": "pause"},
        )
        log.append(answer.status_code)
        if answer.status_code == 200:
            return answer.json()["task_id"]
        assert answer.status_code == 429, answer.text
        assert time.monotonic() < deadline, "submissions kept being refused"
        await asyncio.sleep(min(float(answer.headers["retry-after"]), 2.0))


async def _wait_all(client: httpx.AsyncClient, ids: list[str], deadline: float) -> dict:
    final: dict[str, dict] = {}
    while len(final) < len(ids):
        for task_id in ids:
            if task_id in final:
                continue
            answer = await client.get(f"/audio-separation/{task_id}")
            assert answer.status_code == 200, answer.text
            if answer.json()["status"] != "PENDING":
                final[task_id] = answer.json()
        assert time.monotonic() < deadline, f"{len(ids) - len(final)} tasks never finished"
        await asyncio.sleep(0.2)
    return final


@pytest.mark.slow
def test_fifty_concurrent_submissions_with_steady_polling(server, tmp_path: Path):
    base_url, pid = server
    process = psutil.Process(pid)
    payload = write_clip(tmp_path / "load.wav", seconds=0.5).read_bytes()
    files = ids_file, stop_file, out_file = [tmp_path / n for n in ("ids", "stop", "poll.json")]
    poller = subprocess.Popen(
        [sys.executable, "-m", "tests.engine._poller", base_url, KEY, *map(str, files), "10"],
        cwd=ROOT,
    )
    rss_before = process.memory_info().rss
    peak = [rss_before]
    codes: list[int] = []

    async def scenario() -> dict:
        deadline = time.monotonic() + 120
        limits = httpx.Limits(max_connections=N_SUBMISSIONS)
        async with httpx.AsyncClient(
            base_url=base_url, headers={"x-api-key": KEY}, timeout=60, limits=limits
        ) as client:

            async def one() -> str:
                task_id = await _submit_until_accepted(client, payload, codes, deadline)
                with ids_file.open("a") as f:
                    f.write(task_id + "\n")
                peak[0] = max(peak[0], process.memory_info().rss)
                return task_id

            ids = await asyncio.gather(*(one() for _ in range(N_SUBMISSIONS)))
            return await _wait_all(client, list(ids), deadline)

    try:
        final = asyncio.run(scenario())
    finally:
        stop_file.touch()
        poller.wait(30)
    peak[0] = max(peak[0], process.memory_info().rss)

    assert len(final) == N_SUBMISSIONS
    assert all(s["status"] == "SUCCESS" for s in final.values()), final
    assert codes.count(200) == N_SUBMISSIONS
    assert codes.count(429) > 0, "the queue never filled: back-pressure untested"
    assert not [c for c in codes if c >= 500]

    polled = json.loads(out_file.read_text())
    assert polled["ticks"] > 10 and not polled["errors"], polled
    assert not [c for c in polled["codes"] if int(c) >= 500], polled["codes"]
    assert set(polled["codes"]) <= {"200"}, polled["codes"]
    assert peak[0] - rss_before < MEMORY_BUDGET, (rss_before, peak[0])
    print(
        f"\nload: {codes.count(429)} refusals (429) for {N_SUBMISSIONS} tasks; "
        f"{polled['ticks']} poll rounds; server RSS {rss_before / 2**20:.0f} -> "
        f"{peak[0] / 2**20:.0f} MiB"
    )
