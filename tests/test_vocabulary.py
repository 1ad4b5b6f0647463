"""One vocabulary: statuses, reasons with advice and progress phrases are defined once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from camb_notebook import _vocabulary as vocab

PACKAGE = Path(__file__).resolve().parents[1] / "camb_notebook"


def test_the_documented_reasons_have_advice() -> None:
    documented = {
        "SOURCE_TOO_LONG",
        "SOURCE_TOO_LARGE",
        "SOURCE_TYPE_NOT_SUPPORTED",
        "CONTENT_DOES_NOT_MATCH_EXTENSION",
        "INVALID_SOURCE_DATA",
        "PROCESSING_ERROR",
        "PAYMENT_REQUIRED",
        "INTERNAL_ERROR",
        "HARMFUL_CONTENT_DETECTED",
    }
    # the local engine's min_duration, and its cancel (DELETE /apis/audio-separation/{id})
    engine_extras = {"SOURCE_TOO_SHORT", "CANCELLED"}
    assert set(vocab.REASONS) == documented | engine_extras
    for code, reason in vocab.REASONS.items():
        assert reason.code == code and getattr(vocab, code) == code
        assert reason.advice[0].islower() and not reason.advice.endswith(".")
    # Only a changed file helps with these; retrying the same one cannot.
    assert not vocab.REASONS["SOURCE_TOO_LONG"].retryable
    assert not vocab.REASONS["INVALID_SOURCE_DATA"].retryable
    assert vocab.REASONS["PROCESSING_ERROR"].retryable
    assert vocab.REASONS["CANCELLED"].retryable  # nothing was wrong with the file


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("PENDING",), "separating"),
        (("PENDING", 7.6), "separating 8%"),
        (("PENDING", None, 3, 5), "queued: position 3 of 5"),
        (("PENDING", 0.0, 1, None), "queued: position 1"),  # queued wins over 0 %
        (("SUCCESS", 100.0), "success"),
        (("ERROR",), "error"),
    ],
)
def test_progress_phrase(args: tuple, phrase: str) -> None:
    assert vocab.progress_phrase(*args) == phrase


def test_every_reason_code_in_the_package_is_in_the_vocabulary() -> None:
    """A literal ``exception_reason="..."`` anywhere must name a known code."""
    seen = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "exception_reason"
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                assert node.value.value in vocab.REASONS, f"{path}: {node.value.value}"
                seen.add(node.value.value)
    assert seen  # the scan found the audio module's codes
