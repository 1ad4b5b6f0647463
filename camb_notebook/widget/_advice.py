"""Turn an exception from the pipeline into what a card shows: the reason, a hint, one action.

The message says what went wrong and, as every error of the package does, what to do about it.
The hint only adds what the card's buttons mean for this failure (so it never repeats the
message), and the action picks the button: Retry when running it again can help, "Choose
another file" when the same file would fail the same way, neither when only a new widget can.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .. import _exceptions as exc
from .._exceptions import redact
from .._vocabulary import advice_for

__all__ = ["Action", "Advice", "describe_error"]

#: The card's button for a failure: run again, pick another file, or none (fix the setup).
Action = Literal["retry", "choose-file", "none"]

_SAME_FAILURE = "Sending this file again would fail the same way."


@dataclass(frozen=True)
class Advice:
    """What a failed card says and offers.

    Attributes
    ----------
    message : str
        The reason (redacted: a key that slipped into an exception never reaches the browser).
    hint : str
        What the card's buttons do about it; "" when the message says it all.
    action : {"retry", "choose-file", "none"}
        The button the card offers.
    """

    message: str
    hint: str
    action: Action

    @property
    def retryable(self) -> bool:
        """Whether running the same clip again can succeed."""
        return self.action == "retry"


def _hint_and_action(error: BaseException) -> tuple[str, Action]:
    # Most specific classes first: AudioFormatError is an InputError, SubmitUncertainError a
    # NetworkError, PaymentRequiredError a TaskFailedError.
    if isinstance(error, (exc.AudioFormatError, exc.AudioDecodeError, exc.LimitExceededError)):
        return _SAME_FAILURE, "choose-file"
    if isinstance(error, exc.InputError):
        return "Retry runs it again once that is fixed.", "retry"
    if isinstance(error, exc.AuthenticationError):
        return "The widget reads the key when it is created: create it again.", "none"
    if isinstance(error, exc.RateLimitError):
        return "Wait a minute before pressing Retry.", "retry"
    if isinstance(error, exc.TaskFailedError):
        known = advice_for(error.exception_reason, error.status)
        if known is not None and not known.retryable:
            return _SAME_FAILURE, "choose-file"
        return "Retry sends it again.", "retry"
    if isinstance(error, exc.SubmitUncertainError):
        return "Retry re-uses the upload when the service has it.", "retry"
    if isinstance(error, exc.NetworkError):
        return "Retry once the service answers again.", "retry"
    if isinstance(error, exc.WaitTimeoutError):
        return "Retry waits for the same task again; nothing is sent twice.", "retry"
    if isinstance(error, exc.ResultExpiredError):
        return "Retry fetches fresh links.", "retry"
    if isinstance(error, exc.ConfigurationError):
        return "Create the widget again with the setting fixed.", "none"
    if isinstance(error, exc.CambError):
        return "Retry runs it again.", "retry"
    return "A bug in camb_notebook: the traceback is in w.errors. Retry runs it again.", "retry"


def describe_error(error: BaseException) -> Advice:
    """The reason, a hint that does not repeat it, and the action a card offers.

    Examples
    --------
    >>> from camb_notebook._exceptions import AudioFormatError
    >>> advice = describe_error(AudioFormatError("notes.txt: not audio (expected FLAC, MP3)"))
    >>> advice.action, advice.hint
    ('choose-file', 'Sending this file again would fail the same way.')
    """
    message = redact(str(error)) or type(error).__name__
    if not isinstance(error, exc.CambError):
        message = f"{type(error).__name__}: {message}"
    hint, action = _hint_and_action(error)
    if hint and hint.rstrip(".").lower() in message.lower():
        hint = ""  # the message already says it
    return Advice(message, hint, action)


def cancel_hint(state: str, service_can_stop: bool) -> str:
    """What a card says right after Cancel, from the state the clip was in.

    Examples
    --------
    >>> cancel_hint("validating", False)
    'Nothing was sent to the service.'
    >>> cancel_hint("queued", False)[:43]
    'This service cannot stop a task it accepted'
    """
    if state in ("uploading", "waiting", "validating"):
        return "Nothing was sent to the service."
    if state in ("downloading", "preparing"):
        return "The service had finished it: Retry reuses its result."
    if service_can_stop:
        return "Asking the engine to stop the job…"
    return (
        "This service cannot stop a task it accepted (CAMB.AI's cloud has no cancel): it may "
        "still run there. Retry picks it up again instead of sending it twice."
    )
