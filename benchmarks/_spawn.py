"""Run one measurement in a fresh interpreter, so its peak memory is its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spawn(script: str | Path, job: dict, threads: int) -> dict:
    """Run ``script --worker JOB`` with ``threads`` BLAS/OpenMP threads; its last JSON line.

    A failed run gives ``{kind, seconds, error}`` (the tail of its stderr) instead of raising,
    so one broken measurement does not end the benchmark.
    """
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    proc = subprocess.run(
        [sys.executable, str(Path(script).resolve()), "--worker", json.dumps(job)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT),
        check=False,
    )
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        return dict(kind=job["kind"], seconds=job["seconds"], error=proc.stderr[-300:])
    return json.loads(proc.stdout.strip().splitlines()[-1])
