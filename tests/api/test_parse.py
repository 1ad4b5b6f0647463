"""Reading status answers, and the machine-readable queue state they may carry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from camb_notebook.api import Client, ResultURLs, TaskStatus
from camb_notebook.api._parse import (
    MalformedAnswer,
    parse_json,
    parse_result,
    parse_results,
    parse_status,
)
from tests.emulator import Emulator


@pytest.mark.parametrize(
    ("value", "position", "length"),
    [
        (3, 3, 3),
        (1, 1, 1),
        (0, None, 0),  # position 1 is next to run; nothing waits at 0
        (-1, None, None),
        (None, None, None),
        (True, None, None),  # a bool is not a count
        ("2", None, None),  # nor is text
        (2.0, None, None),
        (2.5, None, None),
        ([2], None, None),
    ],
)
def test_queue_fields_are_integers_or_none(
    value: Any, position: int | None, length: int | None
) -> None:
    answer = {"status": "PENDING", "queue_position": value, "queue_length": value}
    status = parse_status(answer, "t")
    assert (status.queue_position, status.queue_length) == (position, length)
    assert status.queued is (position is not None)


def test_absent_queue_fields_read_as_none() -> None:
    status = parse_status({"status": "PENDING", "progress": 40}, "t")
    assert status.queue_position is None and status.queue_length is None
    assert not status.queued and status.progress == 40.0


def test_only_a_pending_task_is_queued() -> None:
    assert TaskStatus("PENDING", queue_position=1, queue_length=1).queued
    assert not TaskStatus("SUCCESS", queue_position=1).queued
    assert not TaskStatus("PENDING", queue_length=4).queued  # the length alone says nothing


def test_the_queue_state_reaches_on_progress(client: Client, emulator: Emulator, wav: Path) -> None:
    # The emulator has no queue: its next status answer is replaced by a queued one.
    queued = {"status": "PENDING", "run_id": None, "queue_position": 2, "queue_length": 3}
    emulator.fail_next("status", 200, body=queued)
    seen: list[TaskStatus] = []
    result = client.separate(wav, on_progress=seen.append)
    assert result.foreground.is_file()
    assert (seen[0].queued, seen[0].queue_position, seen[0].queue_length) == (True, 2, 3)
    assert seen[0].raw == queued
    assert not any(s.queued for s in seen[1:]) and seen[-1].succeeded


# -- every field of the status answer ---------------------------------------------------------


def test_a_status_answer_field_by_field() -> None:
    answer = {
        "status": "ERROR",
        "run_id": "17",
        "exception_reason": "SOURCE_TOO_LONG",
        "message": {"detail": "the clip is 2 h long"},  # the cloud sends text or objects
        "progress": 55,
        "method": "spleeter",
        "foreground_audio_url": "https://f",
        "background_audio_url": "https://b",
    }
    status = parse_status(answer, "task-9", retry_after=2.5)
    assert status == TaskStatus(
        "ERROR",
        run_id=17,
        exception_reason="SOURCE_TOO_LONG",
        message={"detail": "the clip is 2 h long"},
        progress=55.0,
        method="spleeter",
        foreground_url="https://f",
        background_url="https://b",
        task_id="task-9",
    )
    # Fields left out of equality are kept too.
    assert status.raw is answer and status.retry_after == 2.5


def test_a_bare_status_answer() -> None:
    status = parse_status({"status": "PENDING"}, "t")
    assert status == TaskStatus("PENDING", task_id="t")
    assert status.retry_after is None and status.urls is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),  # the cloud sends "" for "no reason"
        ("INTERNAL_ERROR", "INTERNAL_ERROR"),
    ],
)
def test_exception_reason(value: Any, expected: str | None) -> None:
    status = parse_status({"status": "ERROR", "exception_reason": value}, "t")
    assert status.exception_reason == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (40, 40.0),
        (12.5, 12.5),
        (0, 0.0),
        (100, 100.0),
        (-3, 0.0),  # clamped into 0..100
        (140, 100.0),
        (float("nan"), None),
        (float("inf"), None),
        (True, None),  # a bool is not a percentage
        ("50", None),
        (None, None),
    ],
)
def test_progress_is_a_clamped_finite_percentage(value: Any, expected: float | None) -> None:
    status = parse_status({"status": "PENDING", "progress": value}, "t")
    assert status.progress == expected and (expected is None or type(status.progress) is float)


@pytest.mark.parametrize(
    ("value", "expected"), [("repet", "repet"), (None, None), (3, None), (["a"], None)]
)
def test_method_is_a_string_or_none(value: Any, expected: str | None) -> None:
    assert parse_status({"status": "SUCCESS", "method": value}, "t").method == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7, 7), ("7", 7), (7.0, 7), (None, None), (True, None), ("seven", None), ([7], None)],
)
def test_run_id_is_an_integer_or_none(value: Any, expected: int | None) -> None:
    assert parse_status({"status": "SUCCESS", "run_id": value}, "t").run_id == expected


@pytest.mark.parametrize(
    "data", [None, [], "SUCCESS", {"progress": 10}, {"status": None}, {"status": 200}]
)
def test_a_status_answer_without_a_status_string_is_malformed(data: Any) -> None:
    with pytest.raises(MalformedAnswer, match=r"^no 'status' string in ") as err:
        parse_status(data, "t")
    assert str(err.value) == f"no 'status' string in {json.dumps(data)}"


def test_the_malformed_message_quotes_at_most_200_characters() -> None:
    data = {"state": "x" * 500}
    with pytest.raises(MalformedAnswer) as err:
        parse_status(data, "t")
    assert str(err.value) == "no 'status' string in " + json.dumps(data)[:200]


def test_result_urls_new_names_win_and_empty_ones_do_not_count() -> None:
    answer = {
        "status": "SUCCESS",
        "foreground_audio_url": "",  # empty: fall back to the old name
        "foreground_url": "https://old-f",
        "background_audio_url": "https://new-b",
        "background_url": "https://old-b",
    }
    status = parse_status(answer, "t")
    assert (status.foreground_url, status.background_url) == ("https://old-f", "https://new-b")
    assert parse_status({"status": "SUCCESS", "foreground_url": 5}, "t").foreground_url is None


# -- result answers -----------------------------------------------------------------------------


def test_parse_result_keeps_the_run_id() -> None:
    urls = parse_result({"foreground_audio_url": "f", "background_audio_url": "b"}, 42)
    assert urls == ResultURLs("f", "b", 42)
    assert parse_result({"foreground_url": "f", "background_url": "b"}, None).run_id is None


@pytest.mark.parametrize(
    "data",
    [
        {"foreground_audio_url": "f"},  # one stem only
        {"background_audio_url": "b"},
        {"foreground_audio_url": "", "background_audio_url": "b"},
        {},
        ["f", "b"],
        None,
    ],
)
def test_a_result_answer_needs_both_urls(data: Any) -> None:
    with pytest.raises(MalformedAnswer) as err:
        parse_result(data, 1)
    assert str(err.value) == f"no foreground/background URLs in {json.dumps(data)}"


def test_a_long_bad_result_answer_is_quoted_in_part() -> None:
    data = {"detail": "y" * 400}
    with pytest.raises(MalformedAnswer) as err:
        parse_result(data, 1)
    assert str(err.value) == "no foreground/background URLs in " + json.dumps(data)[:200]


def test_parse_results_keys_by_integer_run_id() -> None:
    data = {
        "7": {"foreground_audio_url": "f7", "background_audio_url": "b7"},
        "8": {"foreground_url": "f8", "background_url": "b8"},
    }
    assert parse_results(data) == {7: ResultURLs("f7", "b7", 7), 8: ResultURLs("f8", "b8", 8)}
    assert parse_results({}) == {}


def test_parse_results_refuses_what_is_not_an_object_of_runs() -> None:
    with pytest.raises(MalformedAnswer) as err:
        parse_results([1, 2])
    assert str(err.value) == "expected an object keyed by run id, got [1, 2]"
    long = ["z" * 300]
    with pytest.raises(MalformedAnswer) as err:
        parse_results(long)
    assert str(err.value) == "expected an object keyed by run id, got " + json.dumps(long)[:200]
    with pytest.raises(MalformedAnswer) as err:
        parse_results({"run-7": {"foreground_audio_url": "f", "background_audio_url": "b"}})
    assert str(err.value) == "run id 'run-7' is not an integer"
    with pytest.raises(MalformedAnswer, match="no foreground/background URLs"):
        parse_results({"7": {"foreground_audio_url": "f"}})


def test_parse_json() -> None:
    assert parse_json(httpx.Response(200, content=b'{"task_id": "t"}')) == {"task_id": "t"}
    body = b"<html>" + b"a" * 200
    with pytest.raises(MalformedAnswer) as err:
        parse_json(httpx.Response(200, content=body))
    assert str(err.value) == f"not JSON: {body[:80]!r}"
    with pytest.raises(MalformedAnswer, match="not JSON"):
        parse_json(httpx.Response(200, content=b"\xff\xfe{}"))  # not UTF-8
