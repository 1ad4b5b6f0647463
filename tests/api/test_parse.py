"""Reading status answers, and the machine-readable queue state they may carry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from camb_notebook.api import Client, TaskStatus
from camb_notebook.api._parse import parse_status
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
