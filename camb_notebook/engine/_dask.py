"""Jobs on a Dask distributed cluster: the :class:`~._pool.JobRunner` seam beyond one machine.

``camb-notebook serve --scheduler tcp://HOST:8786`` hands each accepted job to an
existing cluster as ``client.submit(run_remote, spec)``. The workers read the upload
from and write the stems to the engine's storage (``--storage``: a shared path or an
object store), so they may run on other machines. Progress comes back through the
scheduler's event log (:data:`._remote.TOPIC`), outcomes through the futures.

A worker that dies mid-job is Dask's to handle: the scheduler runs the job again on
another worker, and after ``distributed.scheduler.allowed-failures`` deaths gives up
with ``KilledWorker``, which this runner reports as ``ERROR``. A job is never left
``PENDING``: every future ends in exactly one "done" or "failed" event — also when
the cluster goes away (its futures are cancelled) or the engine shuts down.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from .._exceptions import ConfigurationError
from .._vocabulary import CANCELLED, INTERNAL_ERROR, PROCESSING_ERROR
from ._jobs import JobFailure, JobResult, JobSpec
from ._pool import EventCallback, QueueFull, queue_is_full
from ._remote import TOPIC, Prewarm, run_remote

__all__ = ["DaskRunner"]

log = logging.getLogger("camb_notebook.engine")

_REFRESH = 1.0  # seconds between looks at the cluster's size and at job timeouts


@dataclass
class _Job:
    spec: JobSpec
    future: Any
    submitted: float
    started: float | None = None
    worker: str | None = None


class DaskRunner:
    """Run jobs on the Dask cluster at *scheduler*.

    Parameters
    ----------
    on_event : EventCallback
        Receives "started", "progress", "done" and "failed" (from Dask's threads).
    scheduler : str
        The scheduler's address, e.g. ``tcp://10.0.0.5:8786``.
    max_queue : int
        Jobs that may wait beyond the cluster's free threads; more raise :class:`QueueFull`.
    job_timeout : float or None
        A job running longer ends ``TIMEOUT`` and its future is cancelled (the worker's
        thread finishes the call in the background: Python threads cannot be killed).
    connect_timeout : float
        Seconds to wait for the scheduler at start.
    """

    def __init__(
        self,
        on_event: EventCallback,
        *,
        scheduler: str,
        max_queue: int = 16,
        job_timeout: float | None = None,
        connect_timeout: float = 30.0,
    ) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ConfigurationError(
                "scheduler=... needs Dask distributed: pip install 'camb_notebook[dask]'",
                setting="scheduler",
                value=scheduler,
            ) from None
        self._on_event = on_event
        self._max_queue = max_queue
        self._job_timeout = job_timeout
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}  # in submission order
        self._mean_seconds = 10.0
        self._closed = False
        try:
            self._client = Client(scheduler, timeout=connect_timeout, set_as_default=False)
        except OSError as exc:
            raise ConfigurationError(
                f"could not reach the Dask scheduler at {scheduler} ({exc}); start it "
                "(dask scheduler) or check the address and the firewall",
                setting="scheduler",
                value=scheduler,
            ) from exc
        self._client.subscribe_topic(TOPIC, self._on_worker_event)
        self._capacity = self._count_threads()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="camb-engine-dask", daemon=True)
        self._thread.start()
        log.info(
            "jobs run on the Dask cluster at %s (%d worker threads now)", scheduler, self._capacity
        )

    # -- the JobRunner protocol -------------------------------------------------------

    def submit(self, spec: JobSpec, force: bool = False) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the runner is shut down")
            waiting, running = self._counts()
            if not force and queue_is_full(waiting, running, self._capacity, self._max_queue):
                raise QueueFull(self._retry_after())
            job = self._jobs[spec.job_id] = _Job(spec, None, time.monotonic())  # its place
        # A fresh key per submission: a job queued again after a restart must never be
        # matched to a stale task of the same job left on the scheduler. Submitted outside
        # the lock, which the client's own thread takes for worker events.
        key = f"camb-separate-{spec.job_id}-{secrets.token_hex(4)}"
        try:
            future = self._client.submit(run_remote, spec, key=key, pure=False, retries=0)
        except Exception:
            with self._lock:
                self._jobs.pop(spec.job_id, None)
            raise
        with self._lock:
            job.future = future
        future.add_done_callback(lambda f, job_id=spec.job_id: self._finished(job_id, f))

    def capacity(self) -> int:
        return self._capacity

    def queued(self) -> int:
        with self._lock:
            return self._counts()[0]

    def running(self) -> int:
        with self._lock:
            return self._counts()[1]

    def position(self, job_id: str) -> int | None:
        with self._lock:
            place = 0
            for job in self._jobs.values():
                if job.started is None:
                    place += 1
                    if job.spec.job_id == job_id:
                        return place
        return None

    def retry_after(self) -> float:
        with self._lock:
            return self._retry_after()

    def cancel(self, job_id: str) -> bool:
        """Cancel the job's future: a waiting job never starts; a running one is abandoned.

        The scheduler forgets the task and a later result is ignored, but a worker thread
        already inside the job finishes the call in the background (Python threads cannot
        be killed), so the cluster's thread stays busy until then.
        """
        with self._lock:
            job = self._jobs.pop(job_id, None)
        if job is None:
            return False
        if job.future is not None:
            with contextlib.suppress(Exception):
                job.future.cancel()
        what = "before it started" if job.started is None else "while separating on Dask"
        self._emit("failed", job_id, JobFailure(CANCELLED, f"cancelled {what}"))
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            left = list(self._jobs.values())
            self._jobs.clear()
        self._stop.set()
        self._thread.join(timeout)
        with contextlib.suppress(Exception):
            self._client.unsubscribe_topic(TOPIC)
        with contextlib.suppress(Exception):
            self._client.close(timeout=timeout)
        for job in left:
            self._emit(
                "failed",
                job.spec.job_id,
                JobFailure(INTERNAL_ERROR, "the engine shut down before the job finished"),
            )

    # -- extras -----------------------------------------------------------------------

    def prewarm(self) -> None:
        """Have every worker, present and future, import the separation code now."""
        with contextlib.suppress(Exception):  # an optimisation: never fatal
            self._client.register_plugin(Prewarm())

    def worker_of(self, job_id: str) -> str | None:
        """The address of the Dask worker running *job_id* now, if known."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else job.worker

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` this runner submits through."""
        return self._client

    # -- internals ----------------------------------------------------------------------

    def _counts(self) -> tuple[int, int]:
        waiting = sum(job.started is None for job in self._jobs.values())
        return waiting, len(self._jobs) - waiting

    def _retry_after(self) -> float:
        estimate = self._mean_seconds * len(self._jobs) / max(self._capacity, 1)
        return float(min(max(round(estimate), 1), 60))

    def _count_threads(self) -> int:
        try:
            return int(sum(self._client.nthreads().values()))
        except Exception:  # the scheduler is unreachable right now: keep the last count
            return getattr(self, "_capacity", 0)

    def _on_worker_event(self, event: tuple[float, Any]) -> None:
        _, message = event
        if not isinstance(message, dict):
            return
        job_id, kind = message.get("job"), message.get("kind")
        with self._lock:
            job = self._jobs.get(str(job_id))
            if job is None:
                return  # a job of an earlier engine, or one already over
            if kind == "started":
                job.started = time.monotonic()
                job.worker = str(message.get("value"))
        if kind == "started":
            self._emit("started", job.spec.job_id, message.get("value"))
        elif kind == "progress":
            self._emit("progress", job.spec.job_id, message.get("value"))

    def _finished(self, job_id: str, future: Any) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.future is not future:
                return  # timed out, or the runner shut down: already reported
            del self._jobs[job_id]
            if job.started is not None:
                elapsed = time.monotonic() - job.started
                self._mean_seconds = 0.7 * self._mean_seconds + 0.3 * elapsed
        self._emit(*_outcome(job_id, future))

    def _watch(self) -> None:
        while not self._stop.wait(_REFRESH):
            self._capacity = self._count_threads()
            if self._job_timeout is None:
                continue
            now = time.monotonic()
            with self._lock:
                late = [
                    job
                    for job in self._jobs.values()
                    if job.started is not None and now - job.started > self._job_timeout
                ]
                for job in late:
                    del self._jobs[job.spec.job_id]
            for job in late:
                with contextlib.suppress(Exception):
                    if job.future is not None:
                        job.future.cancel()
                self._emit(
                    "failed",
                    job.spec.job_id,
                    JobFailure(
                        PROCESSING_ERROR,
                        f"the job ran longer than job_timeout={self._job_timeout:g} s and "
                        "was stopped; submit a shorter clip or raise the engine's job_timeout",
                        status="TIMEOUT",
                    ),
                )

    def _emit(self, kind: str, job_id: str, payload: Any) -> None:
        with contextlib.suppress(Exception):  # a faulty callback must not stop the runner
            self._on_event(kind, job_id, payload)


def _outcome(job_id: str, future: Any) -> tuple[str, str, JobResult | JobFailure]:
    """The event that ends a job, from its finished future."""
    status = future.status
    if status == "finished":
        try:
            value = future.result(timeout=30)
        except Exception as exc:
            return "failed", job_id, _failure(f"its result could not be fetched: {exc!r}")
        if isinstance(value, JobResult):
            return "done", job_id, value
        if isinstance(value, JobFailure):
            return "failed", job_id, value
        return "failed", job_id, _failure(f"it returned {type(value).__name__}, not a result")
    if status == "error":
        try:
            exc = future.exception(timeout=30)
        except Exception as err:
            exc = err
        name = type(exc).__name__
        if name == "KilledWorker":
            return (
                "failed",
                job_id,
                JobFailure(
                    PROCESSING_ERROR,
                    "the Dask workers running this job died each time it was tried (killed, "
                    "out of memory, or a crash); submit it again, and if it keeps failing try "
                    "a shorter clip or another method",
                ),
            )
        return "failed", job_id, _failure(f"{name}: {exc}")
    return (
        "failed",
        job_id,
        JobFailure(
            INTERNAL_ERROR,
            f"the Dask cluster dropped the job ({status}): the scheduler restarted or lost "
            "its workers; submit the file again",
        ),
    )


def _failure(what: str) -> JobFailure:
    return JobFailure(PROCESSING_ERROR, f"the job failed on the Dask cluster: {what}")
