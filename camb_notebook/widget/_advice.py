"""Turn an exception from the pipeline into the two lines a card shows: what and what to do."""

from __future__ import annotations

from camb_notebook import _exceptions as exc
from camb_notebook._exceptions import redact

__all__ = ["describe_error"]

_FORMATS = "FLAC, MP3, WAV, AAC/M4A or OGG"

#: What to do for each ``exception_reason`` the service documents.
_REASON_HINTS = {
    "SOURCE_TOO_LONG": "Trim the clip (best results between 10 s and 10 min), then press Retry.",
    "SOURCE_TOO_LARGE": "Export the clip smaller (shorter, or FLAC/MP3), then add it again.",
    "SOURCE_TYPE_NOT_SUPPORTED": f"Convert the clip to {_FORMATS} and add it again.",
    "CONTENT_DOES_NOT_MATCH_EXTENSION": "Rename the file to match its real format; re-export it.",
    "INVALID_SOURCE_DATA": "The service could not read the audio; re-export the file and retry.",
    "PROCESSING_ERROR": "The service failed on this clip; press Retry, or try another method.",
    "INTERNAL_ERROR": "The service had an internal error; press Retry in a minute.",
    "PAYMENT_REQUIRED": "Add credit to the CAMB.AI account, then press Retry.",
    "HARMFUL_CONTENT_DETECTED": "The service refused this content; it cannot be separated there.",
}


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
        hint = f"Choose a {_FORMATS} file and add it again."
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
        reason = getattr(error, "exception_reason", None) or getattr(error, "status", None)
        hint = _REASON_HINTS.get(str(reason), "Press Retry; if it fails again, try another clip.")
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
