"""The words every part shares: task statuses, failure reasons with advice, progress phrases.

Defined once, at the bottom of the layers, so the client's exceptions, the engine's status
answers, the widget's cards (the browser receives these words from Python) and the CLI's
progress lines say the same thing the same way. Nothing here parses prose: a queued task is
known by its ``queue_position``, never by the word "queue" in a message.

Examples
--------
>>> REASONS["SOURCE_TOO_LONG"].retryable
False
>>> progress_phrase("PENDING", queue_position=2, queue_length=5)
'queued: position 2 of 5'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CANCELLED",
    "CONTENT_DOES_NOT_MATCH_EXTENSION",
    "ERROR",
    "HARMFUL_CONTENT_DETECTED",
    "INTERNAL_ERROR",
    "INVALID_SOURCE_DATA",
    "PAYMENT_REQUIRED",
    "PENDING",
    "PROCESSING_ERROR",
    "REASONS",
    "SOURCE_TOO_LARGE",
    "SOURCE_TOO_LONG",
    "SOURCE_TOO_SHORT",
    "SOURCE_TYPE_NOT_SUPPORTED",
    "STATUS_ADVICE",
    "SUCCESS",
    "TIMEOUT",
    "Reason",
    "advice_for",
    "progress_phrase",
]

#: Task statuses of the service contract. Anything but PENDING is terminal.
PENDING = "PENDING"
SUCCESS = "SUCCESS"
ERROR = "ERROR"
TIMEOUT = "TIMEOUT"
PAYMENT_REQUIRED = "PAYMENT_REQUIRED"

#: ``exception_reason`` codes the service documents (PAYMENT_REQUIRED is also one).
SOURCE_TOO_LONG = "SOURCE_TOO_LONG"
SOURCE_TOO_LARGE = "SOURCE_TOO_LARGE"
SOURCE_TYPE_NOT_SUPPORTED = "SOURCE_TYPE_NOT_SUPPORTED"
CONTENT_DOES_NOT_MATCH_EXTENSION = "CONTENT_DOES_NOT_MATCH_EXTENSION"
INVALID_SOURCE_DATA = "INVALID_SOURCE_DATA"
PROCESSING_ERROR = "PROCESSING_ERROR"
INTERNAL_ERROR = "INTERNAL_ERROR"
HARMFUL_CONTENT_DETECTED = "HARMFUL_CONTENT_DETECTED"
#: The local engine's extension: shorter than its configured minimum duration.
SOURCE_TOO_SHORT = "SOURCE_TOO_SHORT"
#: The local engine's extension: the task was stopped on request
#: (``DELETE /apis/audio-separation/{task_id}``; the cloud has no cancel).
CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Reason:
    """One ``exception_reason`` the service documents, and what the user can do about it.

    Attributes
    ----------
    code : str
        The service's reason code, e.g. ``"SOURCE_TOO_LONG"``.
    advice : str
        What happened and what to do, as a clause (no capital, no final period), so it reads
        inside a longer message: ``f"task t-1 failed: {advice}."``.
    retryable : bool
        Whether sending the same file again can succeed (a service hiccup, a topped-up
        account). False means the file itself must change: offer another file, not Retry.
    """

    code: str
    advice: str
    retryable: bool


REASONS: dict[str, Reason] = {
    r.code: r
    for r in (
        Reason(
            SOURCE_TOO_LONG,
            "the clip is too long for the service: split the clip into parts (CAMB.AI works "
            "best on 10 s to 10 min) and separate each part",
            retryable=False,
        ),
        Reason(
            SOURCE_TOO_SHORT,
            "the clip is shorter than the service's minimum duration: use a longer clip",
            retryable=False,
        ),
        Reason(
            SOURCE_TOO_LARGE,
            "the file is too large for the service: re-encode it smaller (e.g. FLAC, or MP3 at "
            "192 kbit/s) or split the clip into parts",
            retryable=False,
        ),
        Reason(
            SOURCE_TYPE_NOT_SUPPORTED,
            "the service does not accept this format: convert it to FLAC, MP3, WAV or AAC",
            retryable=False,
        ),
        Reason(
            CONTENT_DOES_NOT_MATCH_EXTENSION,
            "the file's content does not match its extension: rename it to its real format "
            "(camb_notebook.audio.probe(path).format tells it) or re-encode it",
            retryable=False,
        ),
        Reason(
            INVALID_SOURCE_DATA,
            "the service could not decode the audio: check that the file plays, re-encode it "
            "(e.g. to FLAC) and submit again",
            retryable=False,
        ),
        Reason(
            PROCESSING_ERROR,
            "the service failed while separating: submit again later; if it keeps failing, "
            "contact CAMB.AI support with the task id",
            retryable=True,
        ),
        Reason(
            PAYMENT_REQUIRED,
            "the account has no credit left for this task: top up your CAMB.AI account, then "
            "separate again",
            retryable=True,
        ),
        Reason(
            INTERNAL_ERROR,
            "the service had an internal error: submit again later; if it keeps failing, "
            "contact CAMB.AI support with the task id",
            retryable=True,
        ),
        Reason(
            CANCELLED,
            "the task was cancelled on request and nothing was separated: separate the clip "
            "again when you want its stems",
            retryable=True,
        ),
        Reason(
            HARMFUL_CONTENT_DETECTED,
            "the service refused the content as harmful; it will not separate this clip",
            retryable=False,
        ),
    )
}

#: Advice for a terminal status that came without a known reason.
STATUS_ADVICE: dict[str, Reason] = {
    TIMEOUT: Reason(
        TIMEOUT,
        "the service ran out of time separating it: try a shorter clip (split it) or submit "
        "again later",
        retryable=True,
    ),
    ERROR: Reason(
        ERROR,
        "submit again later; if it keeps failing, contact CAMB.AI support with the task id",
        retryable=True,
    ),
    PAYMENT_REQUIRED: REASONS[PAYMENT_REQUIRED],
}


def advice_for(reason: str | None, status: str | None = None) -> Reason | None:
    """The advice for a failed task: by its reason code, else by its status; None if unknown.

    Examples
    --------
    >>> advice_for("PROCESSING_ERROR").retryable
    True
    >>> advice_for(None, "TIMEOUT").code
    'TIMEOUT'
    >>> advice_for("SOMETHING_NEW", "WEIRD") is None
    True
    """
    if reason in REASONS:
        return REASONS[str(reason)]
    return STATUS_ADVICE.get(str(status or "").upper())


def progress_phrase(
    status: str,
    progress: float | None = None,
    queue_position: int | None = None,
    queue_length: int | None = None,
) -> str:
    """A short phrase for where a task stands, the same in the CLI, the widget and the engine.

    Parameters
    ----------
    status : str
        The task's status (``PENDING`` while it runs).
    progress : float, optional
        Percent done (0–100), when the service reports it.
    queue_position, queue_length : int, optional
        The task's place in the service's queue (1 = next) and the number waiting.

    Examples
    --------
    >>> progress_phrase("PENDING", 42.4)
    'separating 42%'
    >>> progress_phrase("PENDING", queue_position=1)
    'queued: position 1'
    >>> progress_phrase("SUCCESS")
    'success'
    """
    state = str(status or "").upper()
    if state not in ("", PENDING):
        return state.lower()
    if queue_position is not None:
        if queue_length:
            return f"queued: position {queue_position} of {queue_length}"
        return f"queued: position {queue_position}"
    if progress is not None:
        return f"separating {progress:.0f}%"
    return "separating"
