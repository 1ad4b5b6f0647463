"""Start-up cost and load numbers of the local engine.

Run from the repository root::

    python benchmarks/bench_engine.py            # print the table
    python benchmarks/bench_engine.py --write    # also update RESULTS.md (engine section)

Measured, each in a fresh interpreter where start-up is concerned:

- ``import camb_notebook.engine`` (it must stay cheap: FastAPI loads later);
- ``start_engine()`` from a cold interpreter until it serves (FastAPI, uvicorn, app);
- the first job's wait for a worker (forkserver start + pre-import), cold and warm;
- status-call latency on loopback;
- a burst of submissions against a small queue: accepted/refused, wall time, RSS.

The separation itself is a trivial method defined here ("copy"), so the numbers are
the engine's own overhead, not a method's.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _results import write_section  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
SECTION = "engine"  # its block in RESULTS.md


class Copy:
    """The cheapest valid method: everything is foreground."""

    name = "copy"

    def separate(self, audio, sr, progress=None):
        return audio.copy(), np.zeros_like(audio)


def copy_method() -> Copy:
    return Copy()


METHODS = {"copy": "bench_engine:copy_method"}


def _fresh(code: str) -> dict:
    """Run *code* in a fresh interpreter; it prints one JSON line."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=None,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def import_cost(repeat: int = 5) -> float:
    code = (
        "import time,json; t=time.perf_counter(); import camb_notebook.engine; "
        "print(json.dumps({'s': time.perf_counter()-t}))"
    )
    return statistics.median(_fresh(code)["s"] for _ in range(repeat))


def cold_start(repeat: int = 3) -> dict[str, float]:
    """``local_engine()`` in a fresh interpreter, then one tiny job (first worker)."""
    code = f"""
import io, json, sys, time
sys.path.insert(0, {str(ROOT / "benchmarks")!r})
import httpx, numpy as np, soundfile as sf
t0 = time.perf_counter()
from camb_notebook.engine import EngineConfig, start_engine
t1 = time.perf_counter()
engine = start_engine(EngineConfig(api_key="k", prewarm=False, extra_methods={METHODS!r}))
t2 = time.perf_counter()
buf = io.BytesIO(); sf.write(buf, np.zeros((4410, 2), np.float32), 44100, format="WAV")
c = httpx.Client(base_url=engine.base_url, headers={{"x-api-key": "k"}})
def job():
    t = time.perf_counter()
    tid = c.post("/audio-separation", files={{"media_file": ("a.wav", buf.getvalue())}},
                 data={{"method": "copy"}}).json()["task_id"]
    while c.get(f"/audio-separation/{{tid}}").json()["status"] == "PENDING":
        time.sleep(0.002)
    return time.perf_counter() - t
first = job(); warm = sorted(job() for _ in range(5))[2]
lat = []
for _ in range(200):
    t = time.perf_counter(); c.get("/engine"); lat.append(time.perf_counter() - t)
lat.sort()
engine.stop()
print(json.dumps({{"start": t2 - t1, "imports": t1 - t0, "first_job": first, "warm_job": warm,
                  "p50": lat[100], "p95": lat[190]}}))
"""
    runs = [_fresh(code) for _ in range(repeat)]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def burst(n: int = 50, max_queue: int = 8) -> dict[str, float]:
    """*n* concurrent submissions, 1 worker, queue of *max_queue*; retry after 429."""
    import httpx
    import psutil
    import soundfile as sf

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from camb_notebook.engine import EngineConfig, start_engine

    engine = start_engine(
        EngineConfig(api_key="k", max_queue=max_queue, extra_methods=METHODS, worker_nice=0)
    )
    buf = io.BytesIO()
    sf.write(buf, np.zeros((22050, 2), np.float32), 22050, format="WAV")
    payload = buf.getvalue()
    me = psutil.Process()
    rss0 = me.memory_info().rss
    codes: list[int] = []

    async def run() -> float:
        t = time.perf_counter()
        limits = httpx.Limits(max_connections=n)
        async with httpx.AsyncClient(
            base_url=engine.base_url, headers={"x-api-key": "k"}, limits=limits, timeout=60
        ) as c:

            async def one() -> None:
                while True:
                    r = await c.post(
                        "/audio-separation",
                        files={"media_file": ("a.wav", payload)},
                        data={"method": "copy"},
                    )
                    codes.append(r.status_code)
                    if r.status_code == 200:
                        break
                    await asyncio.sleep(min(float(r.headers["retry-after"]), 1.0))
                tid = r.json()["task_id"]
                while (await c.get(f"/audio-separation/{tid}")).json()["status"] == "PENDING":
                    await asyncio.sleep(0.05)

            await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - t

    wall = asyncio.run(run())
    rss1 = me.memory_info().rss
    engine.stop()
    return {
        "n": n,
        "refused": codes.count(429),
        "wall": wall,
        "per_job": wall / n,
        "rss_growth_mib": (rss1 - rss0) / 2**20,
        "server_errors": sum(c >= 500 for c in codes),
    }


def table(imp: float, cold: dict[str, float], load: dict[str, float]) -> str:
    return "\n".join(
        [
            "### Local engine (`python benchmarks/bench_engine.py`)",
            "",
            "Medians of fresh interpreters on the shared 2-core development box; the method",
            "is a no-op, so these are the engine's own costs.",
            "",
            "| what | time |",
            "| --- | --- |",
            f"| `import camb_notebook.engine` | {imp * 1e3:.0f} ms |",
            "| `start_engine()` in a fresh interpreter, until it serves "
            f"(incl. FastAPI + uvicorn imports) | {cold['start'] * 1e3:.0f} ms |",
            "| first job incl. a cold worker (forkserver + pre-imports) "
            f"| {cold['first_job'] * 1e3:.0f} ms |",
            f"| later job (warm worker; 0.1 s clip) | {cold['warm_job'] * 1e3:.0f} ms |",
            "| status call on loopback, p50 / p95 "
            f"| {cold['p50'] * 1e3:.1f} / {cold['p95'] * 1e3:.1f} ms |",
            "",
            f"Burst: {load['n']} concurrent submissions of a 1 s stereo clip, 1 worker, queue 8:",
            f"{load['refused']} answers were 429 (each client honoured `Retry-After`), every task",
            f"finished, {load['server_errors']} server errors, {load['wall']:.1f} s wall "
            f"({load['per_job'] * 1e3:.0f} ms per job end to end),",
            f"resident memory of the serving process grew by {load['rss_growth_mib']:.0f} MiB.",
            "The embedded engine pre-warms its worker in the background right after start,",
            "so in a notebook the cold-worker cost is normally paid while the user picks a file.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update RESULTS.md")
    args = parser.parse_args()
    text = table(import_cost(), cold_start(), burst())
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
