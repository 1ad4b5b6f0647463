"""The queue in the status answer: machine-readable place and length, and a phrase for people."""

from __future__ import annotations

from pathlib import Path

import httpx

from camb_notebook._vocabulary import progress_phrase

from .conftest import KEY, start, submit, wait_done, wait_running


def test_queued_tasks_carry_their_place_and_others_carry_null(clip: Path):
    engine = start(workers=1, max_queue=2)
    try:
        with httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}) as client:
            done = wait_done(client, submit(client, clip, method="half").json()["task_id"])
            running = submit(client, clip, method="slow_long").json()["task_id"]
            wait_running(client, running)
            waiting = [submit(client, clip, method="half").json()["task_id"] for _ in range(2)]
            answers = [client.get(f"/audio-separation/{t}").json() for t in [running, *waiting]]
    finally:
        engine.stop()

    assert done["status"] == "SUCCESS"
    for answer in (done, answers[0]):
        assert answer["queue_position"] is None and answer["queue_length"] is None, answer
    assert answers[0]["message"].startswith("separating with slow_long")
    for position, answer in enumerate(answers[1:], start=1):
        assert answer["status"] == "PENDING"
        assert (answer["queue_position"], answer["queue_length"]) == (position, 2)
        assert answer["message"] == progress_phrase(
            "PENDING", queue_position=position, queue_length=2
        )
