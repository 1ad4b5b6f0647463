"""One clip through the client: validate, submit, wait, download — reporting each step."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ..api import TaskStatus
from ..audio import AudioInfo
from ._runner import Reporter

__all__ = ["ClientPipeline"]


def _service_state(status: TaskStatus) -> tuple[str, float | None]:
    """Card state and 0..1 progress from a pending ``TaskStatus`` (its queue place, not prose)."""
    if status.queued:
        return "queued", None
    if status.progress is None:
        return "separating", None
    return "separating", max(0.0, min(1.0, status.progress / 100.0))


class ClientPipeline:
    """Run one clip through an :class:`camb_notebook.api.Client`, reporting every step.

    Parameters
    ----------
    client_factory : callable
        Returns the client; called once, in the first worker that needs it, so
        creating the widget never waits for the embedded engine to start.
    submit_kw : dict
        ``project_name``, ``folder_id``, ``method`` — passed to ``client.submit``.
    limits : camb_notebook.audio.Limits, optional
        Checked before anything is uploaded.
    timeout : float, optional
        Longest wait for one task, in seconds (``None``: no deadline).

    Examples
    --------
    >>> # pipeline = ClientPipeline(lambda: Client(), {"project_name": "demo"})
    >>> # result = pipeline(Path("song.wav"), report)
    """

    def __init__(
        self,
        client_factory: Any,
        submit_kw: dict[str, Any] | None = None,
        *,
        limits: Any = None,
        timeout: float | None = None,
    ) -> None:
        self._factory = client_factory
        self._client: Any = None
        self._lock = threading.Lock()
        self.submit_kw = {k: v for k, v in (submit_kw or {}).items() if v is not None}
        self.limits = limits
        self.timeout = timeout

    @property
    def client(self) -> Any:
        """The client, created on first use (thread-safe)."""
        with self._lock:
            if self._client is None:
                self._client = self._factory()
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None and hasattr(client, "close"):
            client.close()

    def __call__(self, path: Path, report: Reporter) -> Any:
        report("validating")

        def on_validated(info: AudioInfo) -> None:  # the client probes once, before anything
            report(
                "submitting",
                0.0,
                duration=round(info.duration, 3),
                sample_rate=info.sample_rate,
                channels=info.channels,
                format=info.format,
            )

        def on_upload(sent: int, total: int) -> None:
            if not report.cancel.is_set():
                report("submitting", sent / total if total else None)

        def on_progress(status: TaskStatus) -> None:
            if report.cancel.is_set():
                return
            if status.done:
                report("downloading", None, task_id=status.task_id)
            else:
                state, progress = _service_state(status)
                report(
                    state,
                    progress,
                    task_id=status.task_id,
                    queue_position=status.queue_position,
                    queue_length=status.queue_length,
                )

        return self.client.separate(
            path,
            on_validated=on_validated,
            on_progress=on_progress,
            on_upload=on_upload,
            timeout=self.timeout,
            cancel=report.cancel,
            limits=self.limits,
            **self.submit_kw,
        )
