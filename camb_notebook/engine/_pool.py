"""Who runs the jobs: the :class:`JobRunner` seam and its local process pool.

The engine only needs ``submit`` (which may refuse with :class:`QueueFull`), a few
counters and ``shutdown``; progress and outcomes come back through one callback.
:class:`ProcessPool` runs jobs in local worker processes; ``_dask.DaskRunner``
implements the same protocol on a Dask distributed cluster.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from .._vocabulary import CANCELLED, INTERNAL_ERROR, PROCESSING_ERROR
from ._jobs import JobFailure, JobSpec

__all__ = ["EventCallback", "JobRunner", "ProcessPool", "QueueFull", "queue_is_full"]

#: ``on_event(kind, job_id, payload)`` with kind "started" (pid), "progress"
#: (fraction 0..1), "done" (JobResult) or "failed" (JobFailure). Called from the
#: runner's own thread: keep it quick and thread-safe.
EventCallback = Callable[[str, str, Any], None]

_WORKER_MODULE = f"{__package__}._worker"


class QueueFull(Exception):
    """The runner holds as many jobs as it may; ``retry_after`` is a hint in seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"job queue is full; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


def queue_is_full(waiting: int, running: int, workers: int, max_queue: int) -> bool:
    """Whether one more job would overflow: *max_queue* jobs may wait beyond the idle workers.

    Shared by the pool (on ``submit``) and the app (before it reads an upload).

    Examples
    --------
    >>> queue_is_full(waiting=2, running=1, workers=2, max_queue=1)
    True
    >>> queue_is_full(waiting=1, running=1, workers=2, max_queue=1)
    False
    """
    return waiting >= max_queue + max(workers - running, 0)


class JobRunner(Protocol):
    """What the engine needs from whatever runs its jobs."""

    def submit(self, spec: JobSpec, force: bool = False) -> None:
        """Accept *spec* or raise :class:`QueueFull`; never blocks.

        *force* accepts it beyond the queue's bound (jobs queued again after a restart).
        """

    def capacity(self) -> int:
        """Jobs that can run at once (worker processes, or the cluster's threads)."""

    def queued(self) -> int:
        """Jobs accepted and not yet started."""

    def running(self) -> int:
        """Jobs being processed now."""

    def position(self, job_id: str) -> int | None:
        """1-based place of a waiting job in the queue, None when not waiting."""

    def retry_after(self) -> float:
        """Seconds after which a refused submission may well be accepted."""

    def cancel(self, job_id: str) -> bool:
        """Drop a waiting job or stop a running one; False when it is neither.

        The job ends with a ``"failed"`` event carrying reason ``CANCELLED``.
        """

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop all work; jobs still waiting or running are reported as failed."""


_NO_MAIN = threading.local()
_PATCH_LOCK = threading.Lock()


def _install_no_main_hook() -> None:
    """Keep the parent's ``__main__`` out of our workers.

    spawn and forkserver children normally re-run the parent's main script; a user's
    script without an ``if __name__ == "__main__"`` guard (or a main read from stdin)
    would then run again in every worker. Our workers need nothing from it, so while
    *this module* starts a worker (a thread-local flag) the main entries are dropped
    from the preparation data. Other code starting processes is unaffected.
    """
    from multiprocessing import spawn

    with _PATCH_LOCK:
        if getattr(spawn.get_preparation_data, "_camb_no_main", False):
            return
        original = spawn.get_preparation_data

        def get_preparation_data(name: str) -> dict[str, Any]:
            data = original(name)
            if getattr(_NO_MAIN, "active", False):
                data.pop("init_main_from_path", None)
                data.pop("init_main_from_name", None)
            return data

        get_preparation_data._camb_no_main = True  # type: ignore[attr-defined]
        spawn.get_preparation_data = get_preparation_data


def _worker_entry(conn: Connection, nice: int, warm: bool, method: str | None) -> None:
    # A light trampoline: the server pickles this by name without importing the
    # heavy worker module itself.
    from ._worker import worker_main

    worker_main(conn, nice, warm, method)


@dataclass
class _Worker:
    process: Any
    conn: Connection
    job: JobSpec | None = None
    since: float = 0.0


class ProcessPool:
    """Run jobs in a fixed number of local worker processes, replacing any that die.

    Parameters
    ----------
    on_event : EventCallback
        Receives progress and outcomes (from the pool's supervisor thread).
    workers : int
        Number of worker processes.
    max_queue : int
        Jobs that may wait when every worker is busy; more raise :class:`QueueFull`.
    start_method : {"forkserver", "spawn"}
        Never ``fork``: the server process runs threads.
    job_timeout : float or None
        Kill a worker whose job runs longer and report status ``TIMEOUT``.
    nice : int
        Niceness added to worker processes, so separations yield the CPU to the
        notebook and the server.
    warm : bool
        Each worker loads *default_method* and learns its pace on a short synthetic
        clip before its first job (the first job then starts at once and its progress
        moves from the start).
    default_method : str or None
        The method to warm up; None: the best one installed.

    Examples
    --------
    >>> events = []
    >>> pool = ProcessPool(lambda *e: events.append(e), workers=1, max_queue=2)
    >>> pool.queued(), pool.running()
    (0, 0)
    >>> pool.shutdown()
    """

    def __init__(
        self,
        on_event: EventCallback,
        *,
        workers: int = 1,
        max_queue: int = 16,
        start_method: str = "spawn",
        job_timeout: float | None = None,
        nice: int = 0,
        warm: bool = False,
        default_method: str | None = None,
    ) -> None:
        if start_method == "fork":
            raise ValueError("start_method='fork' is unsafe in a threaded server; use forkserver")
        self._on_event = on_event
        self._n_workers = workers
        self._max_queue = max_queue
        self._start_method = start_method
        self._job_timeout = job_timeout
        self._nice = nice
        self._warm = warm
        self._default_method = default_method
        self._lock = threading.Lock()
        self._pending: collections.deque[JobSpec] = collections.deque()
        self._workers: list[_Worker] = []
        self._running = 0
        self._mean_seconds = 10.0
        self._closed = False
        self._cancels: set[str] = set()  # running jobs whose worker the supervisor stops
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._ctx: Any = None

    # -- the JobRunner protocol -------------------------------------------------------

    def submit(self, spec: JobSpec, force: bool = False) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            alive = max(len(self._workers), self._n_workers)
            full = queue_is_full(len(self._pending), self._running, alive, self._max_queue)
            if full and not force:
                raise QueueFull(self._retry_after())
            self._pending.append(spec)
        self.start()
        self._wake()

    def capacity(self) -> int:
        return self._n_workers

    def queued(self) -> int:
        with self._lock:
            return len(self._pending)

    def running(self) -> int:
        with self._lock:
            return self._running

    def position(self, job_id: str) -> int | None:
        with self._lock:
            for index, spec in enumerate(self._pending):
                if spec.job_id == job_id:
                    return index + 1
        return None

    def cancel(self, job_id: str) -> bool:
        with self._lock:
            waiting = next((s for s in self._pending if s.job_id == job_id), None)
            if waiting is not None:
                self._pending.remove(waiting)
            running = waiting is None and any(
                w.job is not None and w.job.job_id == job_id for w in self._workers
            )
            if running:
                self._cancels.add(job_id)
        if waiting is not None:
            self._emit("failed", job_id, JobFailure(CANCELLED, "cancelled before it started"))
        elif running:
            self._wake()  # the supervisor stops the worker (it owns the processes)
        return waiting is not None or running

    def shutdown(self, timeout: float = 5.0) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        self._wake()
        if thread is not None:
            thread.join(timeout)
        else:
            self._stop_workers(timeout)
        self._wake_r.close()
        self._wake_w.close()

    # -- extras -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the supervisor (it spawns the workers); called by the first ``submit``."""
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(
                target=self._supervise, name="camb-engine-pool", daemon=True
            )
            self._thread.start()

    def worker_pids(self) -> list[int]:
        """PIDs of the live worker processes."""
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]

    def busy_pids(self) -> dict[str, int]:
        """``{job_id: pid}`` of the jobs running now."""
        with self._lock:
            return {w.job.job_id: w.process.pid for w in self._workers if w.job is not None}

    # -- internals (supervisor thread) --------------------------------------------------

    def retry_after(self) -> float:
        with self._lock:
            return self._retry_after()

    def _retry_after(self) -> float:
        waiting = len(self._pending) + self._running
        estimate = self._mean_seconds * waiting / max(self._n_workers, 1)
        return float(min(max(round(estimate), 1), 60))

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _context(self) -> Any:
        if self._ctx is None:
            ctx = multiprocessing.get_context(self._start_method)
            if self._start_method == "forkserver":
                # Workers fork from a server that has imported numpy, soundfile and the
                # methods once; a dead worker is replaced in milliseconds.
                ctx.set_forkserver_preload([_WORKER_MODULE])
            self._ctx = ctx
        return self._ctx

    def _spawn(self) -> _Worker:
        ctx = self._context()
        parent, child = ctx.Pipe(duplex=True)
        process = ctx.Process(
            target=_worker_entry,
            args=(child, self._nice, self._warm, self._default_method),
            name="camb-engine-worker",
            daemon=True,
        )
        _install_no_main_hook()
        _NO_MAIN.active = True
        try:
            process.start()
        finally:
            _NO_MAIN.active = False
            child.close()
        return _Worker(process=process, conn=parent)

    def _supervise(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # never leave jobs hanging in PENDING
            self._fail_everything(INTERNAL_ERROR, f"the engine's job runner stopped: {exc!r}")
            raise
        finally:
            self._stop_workers(2.0)

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    break
                missing = self._n_workers - len(self._workers)
            spawn_failed = False
            for _ in range(missing):
                try:
                    worker = self._spawn()
                except Exception as exc:  # e.g. out of memory or processes, or at exit
                    spawn_failed = True
                    self._fail_pending(
                        INTERNAL_ERROR, f"the engine could not start a worker process: {exc!r}"
                    )
                    break
                with self._lock:
                    self._workers.append(worker)
            self._dispatch()
            timeout = 1.0 if spawn_failed else self._wait_timeout()
            ready = wait(self._waitables(), timeout=timeout)
            for obj in ready:
                if obj is self._wake_r:
                    with contextlib.suppress(BlockingIOError, OSError):
                        self._wake_r.recv(4096)
                    continue
                worker = self._worker_for(obj)
                if worker is None:
                    continue
                if obj is worker.conn:
                    self._receive(worker)
                else:
                    self._bury(worker)
            self._enforce_timeouts()
            self._stop_cancelled()
        with self._lock:  # their jobs are failed below: do not wait for them to finish
            busy = [w.process for w in self._workers if w.job is not None]
        for process in busy:
            with contextlib.suppress(Exception):
                process.kill()
        self._fail_everything(INTERNAL_ERROR, "the engine shut down before the job finished")

    def _waitables(self) -> list[Any]:
        with self._lock:
            objs: list[Any] = [self._wake_r]
            for w in self._workers:
                objs += [w.conn, w.process.sentinel]
            return objs

    def _worker_for(self, obj: Any) -> _Worker | None:
        with self._lock:
            for w in self._workers:
                if obj is w.conn or obj == w.process.sentinel:
                    return w
        return None

    def _wait_timeout(self) -> float:
        if self._job_timeout is None:
            return 5.0
        return min(1.0, self._job_timeout)

    def _dispatch(self) -> None:
        with self._lock:
            pairs = []
            for w in self._workers:
                if w.job is None and self._pending and w.process.is_alive():
                    w.job = self._pending.popleft()
                    w.since = time.monotonic()
                    self._running += 1
                    pairs.append(w)
        for w in pairs:
            try:
                w.conn.send(w.job)
            except (OSError, ValueError):
                self._bury(w)

    def _receive(self, worker: _Worker) -> None:
        try:
            kind, job_id, payload = worker.conn.recv()
        except (EOFError, OSError):
            self._bury(worker)
            return
        if kind in ("done", "failed"):
            with self._lock:
                if worker.job is not None and worker.job.job_id == job_id:
                    elapsed = time.monotonic() - worker.since
                    self._mean_seconds = 0.7 * self._mean_seconds + 0.3 * elapsed
                    worker.job = None
                    self._running -= 1
        self._emit(kind, job_id, payload)

    def _bury(self, worker: _Worker, failure: JobFailure | None = None) -> None:
        """Remove a dead (or killed) worker; fail its job; the loop spawns a new one."""
        process = worker.process
        if process.is_alive():
            process.kill()
        process.join(5.0)
        with self._lock:
            if worker not in self._workers:
                return
            self._workers.remove(worker)
            job = worker.job
            if job is not None:
                self._running -= 1
            worker.job = None
        with contextlib.suppress(OSError):
            worker.conn.close()
        if job is not None:
            if failure is None:
                failure = JobFailure(
                    PROCESSING_ERROR,
                    f"the worker process (pid {process.pid}) exited with code "
                    f"{process.exitcode} while separating; the file may be too demanding "
                    "(memory) or the method crashed. Submit it again; if it keeps "
                    "failing, try another method or a shorter clip.",
                )
            self._emit("failed", job.job_id, failure)

    def _enforce_timeouts(self) -> None:
        if self._job_timeout is None:
            return
        now = time.monotonic()
        with self._lock:
            late = [w for w in self._workers if w.job and now - w.since > self._job_timeout]
        for w in late:
            failure = JobFailure(
                PROCESSING_ERROR,
                f"the job ran longer than job_timeout={self._job_timeout:g} s and was "
                "stopped; submit a shorter clip or raise the engine's job_timeout",
                status="TIMEOUT",
            )
            self._bury(w, failure)

    def _stop_cancelled(self) -> None:
        """Kill the workers of cancelled jobs; the loop starts fresh ones for the queue."""
        with self._lock:
            ids, self._cancels = self._cancels, set()
            doomed = [w for w in self._workers if w.job is not None and w.job.job_id in ids]
        for w in doomed:
            failure = JobFailure(CANCELLED, "cancelled while separating; its worker was stopped")
            self._bury(w, failure)

    def _emit(self, kind: str, job_id: str, payload: Any) -> None:
        with contextlib.suppress(Exception):  # a faulty callback must not stop the pool
            self._on_event(kind, job_id, payload)

    def _fail_pending(self, reason: str, message: str) -> None:
        with self._lock:
            jobs = list(self._pending)
            self._pending.clear()
        for job in jobs:
            self._emit("failed", job.job_id, JobFailure(reason, message))

    def _fail_everything(self, reason: str, message: str) -> None:
        with self._lock:
            jobs = list(self._pending) + [w.job for w in self._workers if w.job is not None]
            self._pending.clear()
            for w in self._workers:
                w.job = None
            self._running = 0
        for job in jobs:
            self._emit("failed", job.job_id, JobFailure(reason, message))

    def _stop_workers(self, timeout: float) -> None:
        with self._lock:
            workers, self._workers = list(self._workers), []
        for w in workers:
            with contextlib.suppress(OSError, ValueError):
                w.conn.send(None)
        deadline = time.monotonic() + timeout
        for w in workers:
            w.process.join(max(deadline - time.monotonic(), 0.0))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(1.0)
            with contextlib.suppress(OSError):
                w.conn.close()
            with contextlib.suppress(ValueError):
                w.process.close()
