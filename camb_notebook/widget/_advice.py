"""Turn an exception from the pipeline into the two lines a card shows: what and what to do."""

from __future__ import annotations

from .. import _exceptions as exc
from .._exceptions import redact
from .._vocabulary import advice_for
from ..audio import FORMATS_TEXT

__all__ = ["describe_error"]


def describe_error(error: BaseException) -> tuple[str, str]:
    """Return ``(message, hint)`` for a card: the reason, then what the user can do.

    The message is redacted, so an API key that slipped into an exception never
    reaches the browser.

    Examples
    --------
    >>> from camb_notebook._exceptions import AudioFormatError
    >>> describe_error(AudioFormatError("notes.txt: not audio"))[1]
    'Choose a FLAC, MP3, WAV, AAC/M4A or OGG file and add it again.'
    """
    message = redact(str(error)) or type(error).__name__
    if isinstance(error, exc.AudioFormatError):
        hint = f"Choose a {FORMATS_TEXT} file and add it again."
    elif isinstance(error, exc.AudioDecodeError):
        hint = "The file looks damaged or empty; re-export it and add it again."
    elif isinstance(error, exc.LimitExceededError):
        hint = "Trim or compress the clip to fit the limit, then add it again."
    elif isinstance(error, exc.InputError):
        hint = "Fix the input named above, then press Retry."
    elif isinstance(error, exc.AuthenticationError):
        hint = "Check the API key (CAMB_API_KEY or api_key=), then press Retry."
    elif isinstance(error, exc.RateLimitError):
        hint = "The service is busy; wait a minute, then press Retry."
    elif isinstance(error, exc.TaskFailedError):
        # The message already carries the service's advice (from the same vocabulary):
        # the hint only says which button helps.
        known = advice_for(error.exception_reason, error.status)
        if known is None or known.retryable:
            hint = "Press Retry; if it fails again, try another clip."
        else:
            hint = "Sending the same file again will fail the same way: change the file first."
    elif isinstance(error, exc.SubmitUncertainError):
        hint = "The upload may have reached the service; Retry re-uses it when it can."
    elif isinstance(error, exc.NetworkError):
        hint = "Check the network or that the engine is running, then press Retry."
    elif isinstance(error, exc.WaitTimeoutError):
        hint = "The task may still finish; press Retry to wait for it again."
    elif isinstance(error, exc.ResultExpiredError):
        hint = "The result links expired; press Retry to fetch new ones."
    elif isinstance(error, exc.ConfigurationError):
        hint = "Fix the setting named above and create the widget again."
    elif isinstance(error, exc.APIError):
        hint = "The service rejected the request; press Retry, or report the message above."
    elif isinstance(error, exc.CambError):
        hint = "Press Retry."
    else:
        message = f"{type(error).__name__}: {message}"
        hint = "Unexpected error inside camb_notebook; the traceback is in w.errors. Press Retry."
    return message, hint
