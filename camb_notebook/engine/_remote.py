"""The job as a Dask worker runs it: events out, files in and out of storage, the outcome back.

Runs inside a Dask worker process (``client.submit(run_remote, spec)``), on any
machine. It tells the engine "started" and the progress through the scheduler's
event log (``Worker.log_event`` on :data:`TOPIC`; the engine subscribes to it), and
returns a :class:`JobResult` or a :class:`JobFailure` as a value — a bad file is an
answer, not an exception for Dask to retry. When the job's paths are URLs (an object
store), the upload is copied into a temporary folder first and the stems copied back
after; plain paths (local disk, a shared mount) are used as they are.

Nothing heavy is imported at module level (only ``distributed``, which the engine has
loaded anyway to reach the cluster): the engine pickles :func:`run_remote` by name
without loading numpy or the methods itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from .._exceptions import redact
from .._vocabulary import PROCESSING_ERROR
from ._jobs import JobFailure, JobResult, JobSpec

__all__ = ["TOPIC", "Prewarm", "run_remote"]

#: The scheduler event topic of job events: ``{"job", "kind", "value"}`` messages.
TOPIC = "camb-notebook-engine"
_PROGRESS_EVERY = 0.25  # seconds between progress events


def run_remote(spec: JobSpec) -> JobResult | JobFailure:
    """Run one job on this Dask worker; never raises for a failing job."""
    from distributed import get_worker

    worker = get_worker()

    def emit(kind: str, value: Any) -> None:
        with contextlib.suppress(Exception):  # events are best effort
            worker.log_event(TOPIC, {"job": spec.job_id, "kind": kind, "value": value})

    emit("started", worker.address)
    last = [0.0]

    def progress(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_EVERY:
            last[0] = now
            emit("progress", min(max(float(fraction), 0.0), 1.0))

    from ._worker import JobError, run_job

    try:
        with _staged(spec) as local:
            outcome: JobResult | JobFailure = run_job(local, progress)
    except JobError as exc:
        outcome = JobFailure(exc.reason, redact(exc.message))
    except Exception as exc:  # a bug, a resource or storage problem: report it
        outcome = JobFailure(
            PROCESSING_ERROR, redact(f"separation failed: {type(exc).__name__}: {exc}")
        )
    return outcome


class Prewarm(WorkerPlugin):
    """A Dask worker plugin: import the separation code as soon as a worker joins.

    Otherwise each worker's first job pays for importing numpy, soundfile and the
    methods (seconds on a busy machine). The import runs in a thread of its own so
    the worker's event loop, and its heartbeats, never wait for it. Registered by the
    engine on every worker, present and future (``client.register_plugin``).
    """

    name = "camb-notebook-prewarm"
    idempotent = True

    def setup(self, worker: Any) -> None:
        import importlib
        import threading

        threading.Thread(
            target=importlib.import_module,
            args=(f"{__package__}._worker",),
            name="camb-prewarm",
            daemon=True,
        ).start()

    def teardown(self, worker: Any) -> None:
        pass


@contextlib.contextmanager
def _staged(spec: JobSpec) -> Iterator[JobSpec]:
    """*spec* with local paths: URLs are copied into a temporary folder and back."""
    if "://" not in spec.input_path:
        yield spec
        return
    import fsspec

    folder = Path(tempfile.mkdtemp(prefix="camb-job-"))
    try:
        fs, source = fsspec.core.url_to_fs(spec.input_path)
        local_in = folder / Path(source).name
        fs.get_file(source, str(local_in))
        local_out = folder / "out"
        yield dataclasses.replace(spec, input_path=str(local_in), out_dir=str(local_out))
        out_fs, out_dir = fsspec.core.url_to_fs(spec.out_dir)
        for stem in sorted(local_out.iterdir()):
            if not stem.name.endswith(".part"):
                out_fs.put_file(str(stem), f"{out_dir.rstrip('/')}/{stem.name}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
