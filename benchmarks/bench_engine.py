"""Start-up cost and load numbers of the local engine.

Run from the repository root::

    python benchmarks/bench_engine.py            # print the table
    python benchmarks/bench_engine.py --write    # also update RESULTS.md (engine section)

Measured, each in a fresh interpreter where start-up is concerned:

- ``import camb_notebook.engine`` (it must stay cheap: FastAPI loads later);
- ``start_engine()`` from a cold interpreter until it serves (FastAPI, uvicorn, app);
- the first job's wait for a worker (forkserver start + pre-import), cold and warm;
- status-call latency on loopback;
- a burst of submissions against a small queue of ``camb-notebook serve`` running in its
  own process: accepted/refused, how many ended SUCCESS, wall time, the server's RSS;
- jobs per minute of ``serve`` with 1 and 2 workers, on the local pool and on a Dask
  ``LocalCluster``, as ratios to the 1-worker pool measured in the same run.

The separation in the start-up and burst numbers is a trivial method defined here
("copy"), so they are the engine's own overhead; the throughput runs ``repet``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
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
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"a fresh interpreter failed:\n{done.stderr[-3000:]}")
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


class Served:
    """``camb-notebook serve`` in a process of its own (so its memory is its own)."""

    def __init__(self, root: Path, *args: str) -> None:
        import httpx

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/apis"
        cmd = [sys.executable, "-m", "camb_notebook.cli", "serve", "--port", str(self.port)]
        cmd += [
            "--api-key",
            "k",
            "--root",
            str(root),
            "--extra-method",
            "copy=bench_engine:copy_method",
        ]
        cmd += list(args)
        paths = [str(ROOT), str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        self.log = root.parent / f"serve-{self.port}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{self.base_url}/engine", headers={"x-api-key": "k"}, timeout=2)
                return
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self.log.read_text()) from None
                time.sleep(0.1)

    def rss(self) -> int:
        """Resident memory of the serving process alone (not its workers)."""
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(60)


def _wav(seconds: float, sr: int = 22050, channels: int = 2, seed: int = 0) -> bytes:
    import soundfile as sf

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)[:, None] * np.ones((1, channels))
    x = tone + 0.05 * rng.standard_normal((t.size, channels))
    buf = io.BytesIO()
    sf.write(buf, x.astype(np.float32), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


async def _run_jobs(base_url: str, payloads: list[bytes], method: str) -> tuple[list, list]:
    """Submit every payload at once (retrying 429s as told), wait for each; codes and ends."""
    import httpx

    codes: list[int] = []
    ends: list[str] = []
    limits = httpx.Limits(max_connections=len(payloads))
    async with httpx.AsyncClient(
        base_url=base_url, headers={"x-api-key": "k"}, limits=limits, timeout=120
    ) as c:

        async def one(payload: bytes) -> None:
            while True:
                try:
                    r = await c.post(
                        "/audio-separation",
                        files={"media_file": ("a.wav", payload)},
                        data={"method": method},
                    )
                except httpx.TransportError:
                    # A 429 comes before the body is read; the server then closes the
                    # connection under the rest of the upload, which may reset it before
                    # the answer is read. Counted as code 0, retried like a 429.
                    codes.append(0)
                    await asyncio.sleep(0.5)
                    continue
                codes.append(r.status_code)
                if r.status_code == 200:
                    break
                await asyncio.sleep(min(float(r.headers.get("retry-after", 1)), 1.0))
            tid = r.json()["task_id"]
            misses = 0
            while True:
                try:
                    status = (await c.get(f"/audio-separation/{tid}")).json()
                except httpx.TransportError:
                    # A kept-alive connection the server closed as it was reused: a real
                    # client polls again (this one up to five times in a row).
                    misses += 1
                    if misses > 5:
                        raise
                    continue
                misses = 0
                if status["status"] != "PENDING":
                    ends.append(status["status"])
                    return
                await asyncio.sleep(0.2)  # a brisk client; faster polling only loads the box

        await asyncio.gather(*(one(p) for p in payloads))
    return codes, ends


def burst(work: Path, n: int = 50, max_queue: int = 8) -> dict[str, float]:
    """*n* concurrent submissions, 1 worker, queue of *max_queue*; retry after 429."""
    served = Served(work / "burst", "--max-queue", str(max_queue))
    try:
        payload = _wav(1.0)
        rss0 = served.rss()
        t = time.perf_counter()
        codes, ends = asyncio.run(_run_jobs(served.base_url, [payload] * n, "copy"))
        wall = time.perf_counter() - t
        rss1 = served.rss()
    finally:
        served.stop()
    return {
        "n": n,
        "refused": codes.count(429),
        "resets": codes.count(0),
        "succeeded": ends.count("SUCCESS"),
        "wall": wall,
        "per_job": wall / n,
        "rss_growth_mib": (rss1 - rss0) / 2**20,
        "server_errors": sum(c >= 500 for c in codes),
    }


def throughput(work: Path, jobs: int = 16, seconds: float = 4.0) -> dict[str, float]:
    """Jobs per minute of ``repet`` on *seconds*-long clips: 1 and 2 workers, local pool and Dask.

    Each configuration gets a warm-up job per worker first (workers started, methods
    imported), then *jobs* distinct clips submitted at once; the clock runs until the last
    one finished.
    """
    import distributed

    payloads = [_wav(seconds, seed=i) for i in range(jobs)]
    out: dict[str, float] = {}

    def measure(name: str, served: Served, workers: int) -> None:
        try:
            # One warm-up job per worker, at once: every worker has its imports done.
            warm = [_wav(1.0, seed=99 + k) for k in range(workers)]
            asyncio.run(_run_jobs(served.base_url, warm, "repet"))
            t = time.perf_counter()
            _, ends = asyncio.run(_run_jobs(served.base_url, payloads, "repet"))
            wall = time.perf_counter() - t
        finally:
            served.stop()
        if ends.count("SUCCESS") != jobs:
            raise RuntimeError(f"{name}: only {ends.count('SUCCESS')} of {jobs} jobs succeeded")
        out[name] = jobs / wall * 60.0

    for workers in (1, 2):
        args = ("--workers", str(workers), "--max-queue", str(jobs))
        measure(f"pool{workers}", Served(work / f"pool{workers}", *args), workers)
    for workers in (1, 2):
        with distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=40,
        ) as cluster:
            args = ("--scheduler", cluster.scheduler_address, "--max-queue", str(jobs))
            measure(f"dask{workers}", Served(work / f"dask{workers}", *args), workers)
    return out


def table(
    imp: float,
    cold: dict[str, float],
    load: dict[str, float],
    rate: dict[str, float],
    busy: tuple[float, float],
) -> str:
    finished = (
        "every task ended SUCCESS"
        if load["succeeded"] == load["n"]
        else f"only {load['succeeded']:.0f} of {load['n']:.0f} tasks ended SUCCESS"
    )
    base = rate["pool1"]
    return "\n".join(
        [
            "### Local engine (`python benchmarks/bench_engine.py`)",
            "",
            "Medians of fresh interpreters on the shared 2-core development box (1-minute load",
            f"average {busy[0]:.1f} at the start of the run, {busy[1]:.1f} at its end); the method",
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
            f"Burst against `camb-notebook serve` in its own process: {load['n']:.0f} concurrent",
            "submissions of a 1 s stereo clip, 1 worker, queue 8:",
            f"{load['refused']:.0f} answers were 429 (each client honoured `Retry-After`) and "
            f"{load['resets']:.0f} uploads were cut off by a reset around such an early answer",
            f"(retried), {finished},",
            f"{load['server_errors']:.0f} server errors, {load['wall']:.1f} s wall "
            f"({load['per_job'] * 1e3:.0f} ms per job end to end);",
            f"resident memory of the serving process grew by {load['rss_growth_mib']:.0f} MiB.",
            "The embedded engine pre-warms its worker in the background right after start,",
            "so in a notebook the cold-worker cost is normally paid while the user picks a file.",
            "",
            "Throughput of `serve` (`repet` on distinct 4 s stereo clips, 16 at once, after a",
            "warm-up job per worker), as ratios to the local pool with 1 worker measured in the",
            "same run:",
            "",
            "| runner | workers | jobs per minute | ratio |",
            "| --- | --- | --- | --- |",
            *(
                f"| {'local pool' if name.startswith('pool') else 'Dask LocalCluster'} "
                f"| {name[-1]} | {value:.1f} | {value / base:.2f} |"
                for name, value in rate.items()
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update RESULTS.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as folder:
        work = Path(folder)
        parts = import_cost(), cold_start(), burst(work), throughput(work)
    text = table(*parts, busy=(load_before, os.getloadavg()[0]))
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
