"""One clip through the client: validate, submit, wait, download — reporting each step."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from .._exceptions import CambError, CancelledError
from .._vocabulary import progress_phrase
from ..api import TaskStatus
from ..audio import AudioInfo
from ._runner import Reporter

__all__ = ["ClientPipeline", "service_state"]

log = logging.getLogger("camb_notebook.widget")


def service_state(status: TaskStatus) -> tuple[str, float | None, str]:
    """Card state, 0..1 progress and badge phrase from a ``TaskStatus`` of a pending task.

    A task is queued when the service says where it is in its queue (``queue_position``);
    the message text is never parsed.

    Examples
    --------
    >>> from camb_notebook.api import TaskStatus
    >>> service_state(TaskStatus("PENDING", queue_position=2, queue_length=3))
    ('queued', None, 'queued: position 2 of 3')
    >>> service_state(TaskStatus("PENDING", progress=42.0))
    ('separating', 0.42, '')
    """
    if status.queued:
        phrase = progress_phrase(
            "PENDING", queue_position=status.queue_position, queue_length=status.queue_length
        )
        return "queued", None, phrase
    if status.progress is None:
        return "separating", None, ""
    return "separating", max(0.0, min(1.0, status.progress / 100.0)), ""


class ClientPipeline:
    """Run one clip through an :class:`camb_notebook.api.Client`, reporting every step.

    Parameters
    ----------
    client_factory : callable
        Returns the client; called once, in the first worker that needs it, so
        creating the widget never waits for the embedded engine to start.
    submit_kw : dict
        ``project_name``, ``folder_id``, ``method`` — passed to ``client.separate``.
    limits : camb_notebook.audio.Limits, optional
        Checked before anything is uploaded.
    timeout : float, optional
        Longest wait for one task, in seconds (``None``: no deadline).
    can_stop_tasks : bool
        The service can stop a task it accepted (the local engine's cancel call); a
        cancelled clip's task is then stopped there, not only no longer waited for.
    owns_client : bool
        Close the client with the pipeline; False for a client that is someone else's (one
        passed in ``add_file(clients=[...])``, or the widget's, shared by a run's pipeline).

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
        can_stop_tasks: bool = False,
        owns_client: bool = True,
    ) -> None:
        self._factory = client_factory
        #: False when the client is someone else's (a user's, another pipeline's): not closed.
        self.owns_client = owns_client
        self._client: Any = None
        self._lock = threading.Lock()
        self.submit_kw = {k: v for k, v in (submit_kw or {}).items() if v is not None}
        self.limits = limits
        self.timeout = timeout
        self.can_stop_tasks = can_stop_tasks

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
        if client is not None and self.owns_client and hasattr(client, "close"):
            client.close()

    def __call__(self, path: Path, report: Reporter) -> Any:
        report("validating")
        client = self.client
        seen: dict[str, str] = {}

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
            if status.task_id:
                seen["task_id"] = status.task_id
            if report.cancel.is_set():
                return
            if status.done:
                report("downloading", None, task_id=status.task_id)
            else:
                state, progress, detail = service_state(status)
                report(state, progress, detail=detail, task_id=status.task_id)

        try:
            return client.separate(
                path,
                on_validated=on_validated,
                on_progress=on_progress,
                on_upload=on_upload,
                timeout=self.timeout,
                cancel=report.cancel,
                limits=self.limits,
                **self.submit_kw,
            )
        except CancelledError as error:
            task_id = getattr(error, "task_id", None) or seen.get("task_id")
            if task_id is not None and self.can_stop_tasks:
                self._stop(client, task_id, report)
            raise

    @staticmethod
    def _stop(client: Any, task_id: str, report: Reporter) -> None:
        """Ask the service to stop a cancelled clip's task; the card says how that went."""
        try:
            status = client.cancel(task_id)
        except CambError as error:
            log.info("could not stop task %s: %s", task_id, error)
            report.annotate(hint=f"Could not ask the service to stop it ({error}).")
            return
        if status is None:
            hint = "This service has no cancel: the task may still run there."
        elif status.status == "SUCCESS":
            hint = "The service had already finished it: Retry reuses its result."
        else:
            hint = "The engine stopped the job; its worker is free for the next clip."
        report.annotate(hint=hint)
