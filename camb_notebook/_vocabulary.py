"""Words shared by the engine and the front ends (placeholder: only the progress phrase).

The full vocabulary (task statuses, reasons with their advice) lands with issue 9;
this module keeps the signature every caller relies on.

Examples
--------
>>> progress_phrase("PENDING", queue_position=2, queue_length=5)
'queued: 2 of 5'
>>> progress_phrase("PENDING", progress=40.0)
'separating 40%'
"""

from __future__ import annotations

__all__ = ["progress_phrase"]


def progress_phrase(
    status: str,
    progress: float | None = None,
    queue_position: int | None = None,
    queue_length: int | None = None,
) -> str:
    """A short phrase for a task's state, e.g. ``"queued: 2 of 5"`` or ``"separating 40%"``.

    Parameters
    ----------
    status : str
        The task's status (``"PENDING"``, ``"SUCCESS"``, ...).
    progress : float, optional
        Percent done, for a running task.
    queue_position, queue_length : int, optional
        Place of a waiting task (1 = next) and how many wait.

    Returns
    -------
    str

    Examples
    --------
    >>> progress_phrase("PENDING")
    'separating'
    """
    if status == "PENDING" and queue_position is not None:
        if queue_length is None:
            return f"queued: {queue_position}"
        return f"queued: {queue_position} of {queue_length}"
    if status == "PENDING":
        return "separating" if progress is None else f"separating {progress:.0f}%"
    return status.lower()
