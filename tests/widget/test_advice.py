"""What a failed card says and offers: one action, and a hint that never repeats the message."""

from __future__ import annotations

import re

import pytest

from camb_notebook import _exceptions as exc
from camb_notebook._vocabulary import REASONS
from camb_notebook.api import TaskStatus
from camb_notebook.api._errors import task_failed_error
from camb_notebook.widget._advice import cancel_hint, describe_error


def _sentences(text: str) -> list[str]:
    return [s.strip().lower() for s in re.split(r"[.;:]\s", text) if len(s.strip()) > 12]


def _check_no_repeat(message: str, hint: str) -> None:
    for sentence in _sentences(hint):
        assert sentence not in message.lower(), (message, hint)
    for sentence in _sentences(message):
        assert sentence not in hint.lower(), (message, hint)


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_service_reason_offers_what_can_help(code: str) -> None:
    error = task_failed_error(TaskStatus("ERROR", exception_reason=code, task_id="t-1"))
    advice = describe_error(error)
    expected = "retry" if REASONS[code].retryable else "choose-file"
    assert advice.action == expected, (code, advice)
    _check_no_repeat(advice.message, advice.hint)


@pytest.mark.parametrize(
    ("error", "action"),
    [
        (
            exc.AudioFormatError("notes.wav: not audio (expected FLAC, MP3, WAV, AAC/M4A or OGG)"),
            "choose-file",
        ),
        (
            exc.AudioDecodeError("empty.wav: the file is empty (0 bytes); pick the file again"),
            "choose-file",
        ),
        (
            exc.LimitExceededError("long.wav: 2.5 h, longer than the limit of 1 h; split it"),
            "choose-file",
        ),
        (exc.AuthenticationError("the API key was refused (401); check CAMB_API_KEY"), "none"),
        (exc.ConfigurationError("base_url='x' is not a URL"), "none"),
        (exc.RateLimitError("too many requests (429); wait, then try again"), "retry"),
        (exc.NetworkError("could not reach 127.0.0.1:9; check the network"), "retry"),
        (exc.WaitTimeoutError("task t still PENDING after 60 s"), "retry"),
        (exc.ResultExpiredError("the foreground URL no longer serves the file"), "retry"),
        (exc.SubmitUncertainError("the upload may have reached the service"), "retry"),
        (ZeroDivisionError("division by zero"), "retry"),
    ],
)
def test_local_failures_offer_what_can_help_without_repeating(error, action) -> None:
    advice = describe_error(error)
    assert advice.action == action, advice
    _check_no_repeat(advice.message, advice.hint)
    assert advice.retryable is (action == "retry")


def test_a_hint_the_message_already_gives_is_dropped() -> None:
    advice = describe_error(exc.RateLimitError("busy: wait a minute before pressing Retry."))
    assert advice.hint == ""


def test_cancel_says_what_happened_to_the_service_task() -> None:
    assert "Nothing was sent" in cancel_hint("uploading", True)
    assert "Asking the engine" in cancel_hint("separating", True)
    assert "cannot stop" in cancel_hint("queued", False)
    assert "reuses its result" in cancel_hint("preparing", False)
