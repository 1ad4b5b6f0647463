"""``/metrics`` in Prometheus' text format: queue, jobs, durations, and load per key name.

Each engine has its own registry (several engines may share a process, e.g. in tests).
Gauges that describe "now" (queue depth, running jobs, tasks by status and method,
jobs per key) are read from the engine at scrape time; counters and histograms are
updated as jobs end. Labels carry key *names*, never keys.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from camb_notebook.engine._config import EngineConfig
>>> from camb_notebook.engine._state import EngineState
>>> state = EngineState(EngineConfig(root=Path(tempfile.mkdtemp())))
>>> b"camb_engine_queue_depth 0.0" in state.metrics.render()
True
>>> state.close()
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from ._pool import JobRunner
    from ._tasks import Task, TaskRegistry

__all__ = ["CONTENT_TYPE", "Metrics", "Source"]

#: The media type of the exposition format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_JOB_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
_UPLOAD_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class Source(Protocol):
    """What the gauges read at scrape time (the engine's state)."""

    runner: JobRunner
    tasks: TaskRegistry


class Metrics:
    """The engine's Prometheus metrics.

    Parameters
    ----------
    state : Source
        The engine's state, read at scrape time for the gauges.
    """

    def __init__(self, state: Source) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.submissions = Counter(
            "camb_engine_submissions", "Submissions accepted, by key name", ["key"], registry=r
        )
        self.refusals = Counter(
            "camb_engine_refusals",
            "Submissions refused with 429, by key name and cause (queue, key_limit)",
            ["key", "cause"],
            registry=r,
        )
        self.jobs = Counter(
            "camb_engine_jobs_finished",
            "Jobs that ended since the engine started, by status and method",
            ["status", "method"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "camb_engine_job_duration_seconds",
            "Seconds from a job's start on a worker to its end, by method",
            ["method"],
            buckets=_JOB_BUCKETS,
            registry=r,
        )
        self.upload_seconds = Histogram(
            "camb_engine_upload_duration_seconds",
            "Seconds to receive an upload (body streamed to storage)",
            buckets=_UPLOAD_BUCKETS,
            registry=r,
        )
        r.register(_Live(state))

    def on_task(self, event: str, task: Task) -> None:
        """The task registry's listener: count and time jobs as they end."""
        if event != "finished" or task.finished is None:
            return
        method = task.method or "default"
        self.jobs.labels(task.status, method).inc()
        if task.started_at is not None:
            self.job_seconds.labels(method).observe(max(task.finished - task.started_at, 0.0))

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)


class _Live:
    """Gauges computed from the engine's current state when Prometheus scrapes."""

    def __init__(self, state: Source) -> None:
        self.state = state

    def describe(self) -> list[Any]:
        return []  # names are not fixed up front: nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        state = self.state
        runner = state.runner
        yield GaugeMetricFamily(
            "camb_engine_queue_depth", "Jobs accepted and waiting for a worker", runner.queued()
        )
        yield GaugeMetricFamily("camb_engine_jobs_running", "Jobs running now", runner.running())
        yield GaugeMetricFamily(
            "camb_engine_capacity", "Jobs that can run at once (workers)", runner.capacity()
        )
        tasks = GaugeMetricFamily(
            "camb_engine_tasks",
            "Tasks held now (until their results expire), by status and method",
            labels=["status", "method"],
        )
        for (status, method), n in sorted(state.tasks.counts().items()):
            tasks.add_metric([status, method], n)
        yield tasks
        per_key = GaugeMetricFamily(
            "camb_engine_key_jobs",
            "Tasks held now per key name, by state (queued, running, finished)",
            labels=["key", "state"],
        )
        for name, counts in sorted(state.tasks.load_by_owner().items()):
            for what, n in counts.items():
                per_key.add_metric([name, what], n)
        yield per_key
