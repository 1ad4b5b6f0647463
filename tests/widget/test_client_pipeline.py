"""The widget driving the real client over real HTTP: the CAMB emulator and the local engine."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from camb_notebook.widget import SeparationWidget
from tests.emulator.server import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(pending_polls=2) as emu:
        yield emu


def _states(w: SeparationWidget) -> list[str]:
    seen: list[str] = []
    w.observe(
        lambda ch: (
            seen.append(ch.new[0]["state"])
            if ch.new and (not seen or seen[-1] != ch.new[0]["state"])
            else None
        ),
        "clips",
    )
    return seen


def test_clip_through_the_emulator_and_key_never_leaks(emulator, clip_files):
    w = SeparationWidget(
        api_key=emulator.api_key, base_url=emulator.base_url, project_name="widget-test"
    )
    seen = _states(w)
    w.add_file(clip_files["mix"])
    (result,) = w.wait(timeout=60)
    assert seen[-1] == "done"
    for state in ("validating", "submitting", "separating", "downloading", "preparing"):
        assert state in seen, seen
    assert emulator.last_form.get("project_name") == "widget-test"
    assert result.stems().duration == pytest.approx(2.0, abs=0.01)
    texts = [json.dumps(w.get_state(), default=str), repr(w), w.backend_label]
    texts += [repr(v) for v in vars(w).values()]
    assert not any(emulator.api_key in t for t in texts)
    w.close()


def test_wrong_key_fails_with_advice(emulator, clip_files):
    w = SeparationWidget(api_key="sk-wrong-key-123456", base_url=emulator.base_url)
    w.add_file(clip_files["mix"])
    w.wait(timeout=60)
    state = w.clips[0]
    assert state["state"] == "failed" and "API key" in state["message"]
    # Retry cannot help (the key is read when the widget is made): no button, a hint saying so.
    assert state["action"] == "none" and "create it again" in state["hint"]
    assert "sk-wrong-key-123456" not in json.dumps(w.get_state(), default=str)
    w.close()


def test_service_failure_reason_reaches_the_card(emulator, clip_files):
    emulator.finish_next("ERROR", "SOURCE_TOO_LONG", "clip longer than the limit")
    w = SeparationWidget(api_key=emulator.api_key, base_url=emulator.base_url)
    w.add_file(clip_files["mix"])
    w.wait(timeout=60)
    state = w.clips[0]
    assert state["state"] == "failed" and "SOURCE_TOO_LONG" in state["message"]
    # The message carries the service's advice; the hint says what helps, without repeating it.
    assert "split the clip" in state["message"]
    assert state["action"] == "choose-file" and "split" not in state["hint"]
    w.close()


@pytest.mark.slow
def test_clip_through_the_local_engine(clip_files):
    w = SeparationWidget("local", method="repet")
    w.add_file(clip_files["mix"])
    (result,) = w.wait(timeout=180)
    state = w.clips[0]
    assert state["state"] == "done", state
    assert state["facts"]["method"] == "repet"
    assert result.base_url.startswith("http://127.0.0.1:")
    w.close()
