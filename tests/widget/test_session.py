"""What a widget remembers across kernels: the session file, and clips brought back from it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from camb_notebook.widget import SeparationWidget
from camb_notebook.widget._session import Session, cell_session_key
from tests.emulator.server import Emulator


def test_session_file_round_trip_and_only_its_fields(tmp_path: Path) -> None:
    book = Session("nb.ipynb#c1", folder=tmp_path)
    assert book.load() == []
    clip = {"id": "a", "name": "song.wav", "path": "/x/song.wav", "task_id": "t", "secret": "k"}
    assert book.save([clip]) is True
    assert book.save([clip]) is False  # unchanged: not written again
    assert Session("nb.ipynb#c1", folder=tmp_path).load() == [
        {"id": "a", "name": "song.wav", "path": "/x/song.wav", "task_id": "t"}
    ]
    assert "secret" not in book.path.read_text()
    # Another key never reads this file, even if the names collided.
    assert Session("nb.ipynb#c2", folder=tmp_path).load() == []
    book.path.write_text("{not json")
    assert book.load() == []


def test_no_key_outside_a_notebook_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert cell_session_key() is None
    monkeypatch.setenv("JPY_SESSION_NAME", "lesson.ipynb")
    assert cell_session_key() is None  # no kernel, so no cell id


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(pending_polls=1) as emu:
        yield emu


def test_running_the_cell_again_brings_finished_clips_back_without_sending(
    emulator: Emulator, clip_files: dict[str, Path]
) -> None:
    kw = {"api_key": emulator.api_key, "base_url": emulator.base_url, "session": "lesson-3"}
    first = SeparationWidget(**kw)
    first.add_file(clip_files["mix"])
    first.wait(timeout=60)
    task_id = first.results[0].task_id
    first.close()

    again = SeparationWidget(**kw)  # e.g. the same cell in a new kernel
    (result,) = again.wait(timeout=60)
    state = again.clips[0]
    assert state["state"] == "done" and state["name"] == "mix.wav"
    assert state["facts"]["reused"] is True and result.task_id == task_id
    assert emulator.submissions == 1  # nothing was sent again
    assert again.pictures[state["id"]].startswith("data:image/png;base64,")
    text = json.dumps(again._session.load())
    assert emulator.api_key not in text and "127.0.0.1" in text
    again.close()

    # Another session name starts empty; session=False remembers nothing.
    assert SeparationWidget(**{**kw, "session": "other"}).clips == []
    assert SeparationWidget(**{**kw, "session": False})._session is None


def test_a_clip_whose_stems_are_gone_comes_back_with_retry_not_a_new_job(
    emulator: Emulator, clip_files: dict[str, Path], tmp_path: Path
) -> None:
    kw = {"api_key": emulator.api_key, "base_url": emulator.base_url, "session": "lesson-4"}
    first = SeparationWidget(**kw)
    first.add_file(clip_files["mix"])
    (result,) = first.wait(timeout=60)
    first.close()
    result.foreground.unlink()  # the cache was cleared

    again = SeparationWidget(**kw)
    state = again.clips[0]
    assert state["state"] == "cancelled" and state["action"] == "retry"
    assert "no longer in the task store" in state["message"]
    assert emulator.submissions == 1
    again.close()
