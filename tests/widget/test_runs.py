"""Several runs of one file in one card: ``add_file(path, methods=[...], clients=[...])``.

Real parts: the embedded local engine runs the methods, the CAMB emulator stands for a
service passed as a client (with a key that must never reach the browser or the session file).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from camb_notebook._exceptions import InputError
from camb_notebook.api import Client
from camb_notebook.methods import available_methods
from camb_notebook.widget import SeparationWidget
from tests.emulator.server import Emulator

from .conftest import StandInPipeline


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(pending_polls=1) as emu:
        yield emu


def _key_nowhere(w: SeparationWidget, key: str) -> None:
    texts = [json.dumps(w.get_state(), default=str), repr(w), w.backend_label]
    texts += [repr(c.to_state()) for c in w._clips]
    if w._session is not None:
        texts.append(w._session.path.read_text())
    assert not any(key in t for t in texts)


def test_an_unknown_method_names_the_value_and_the_available_ones(clip_files):
    w = SeparationWidget("local", session=False)
    with pytest.raises(InputError) as caught:
        w.add_file(clip_files["mix"], methods=["spleeter", "demucs"])
    text = str(caught.value)
    assert "'demucs'" in text and caught.value.value == "demucs"
    for name in available_methods():
        assert name in text
    assert "available_methods()" in text
    assert w.clips == []  # nothing was started, not even the good method's run
    w.close()


def test_other_bad_run_lists_fail_before_anything_runs(clip_files, tmp_path):
    w = SeparationWidget("local", session=False)
    with pytest.raises(InputError, match=r"methods='repet' must be a list"):
        w.add_file(clip_files["mix"], methods="repet")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="names a method twice"):
        w.add_file(clip_files["mix"], methods=["repet", "REPET"])
    with pytest.raises(InputError, match="nothing to compare"):
        w.add_file(clip_files["mix"], methods=[])
    with pytest.raises(InputError, match="Client objects"):
        w.add_file(clip_files["mix"], clients=["https://example.com"])
    with pytest.raises(InputError, match="no such file"):
        w.add_file(tmp_path / "gone.wav", methods=["repet", "spleeter"])
    assert w.clips == []
    w.close()


def test_runs_need_a_service_not_a_custom_pipeline(clip_files):
    w = SeparationWidget(pipeline=StandInPipeline(clip_files))
    with pytest.raises(InputError, match="custom pipeline"):
        w.add_file(clip_files["mix"], methods=["spleeter", "repet"])
    w.close()


def test_two_methods_make_one_card_of_two_runs_each_sent_once(clip_files):
    w = SeparationWidget("local", session=False)
    group = w.add_file(clip_files["mix"], methods=["spleeter", "repet"])
    results = w.wait(timeout=300)
    assert [r.method for r in results] == ["spleeter", "repet"]
    states = w.clips
    assert [(s["group"], s["run"], s["state"]) for s in states] == [
        (group, "spleeter", "done"),
        (group, "repet", "done"),
    ]
    assert [s["facts"]["method"] for s in states] == ["spleeter", "repet"]
    # One task per run; the runs' stems line up with the one original (same length).
    assert len({r.task_id for r in results}) == 2
    assert len({round(r.stems().duration, 3) for r in results}) == 1
    assert all(s["id"] in w.pictures for s in states)

    # The runs as a comparison (what compare() gives): aligned to the one original.
    comparison = w.comparison(group)
    assert comparison.labels == ["spleeter", "repet"]
    assert comparison["repet"].service == "local engine"
    assert list(comparison.metrics().index) == ["spleeter", "repet"]
    with pytest.raises(InputError, match="not a card of several runs"):
        w.comparison(states[0]["id"])

    # Retry by the card's id runs again only the runs that did not finish.
    w.retry(group)
    assert [s["attempt"] for s in w.clips] == [1, 1]
    # Removing the card (its id is the group's) removes every run.
    w._msg_remove({"clip_id": group}, [])
    assert w.clips == []
    w.close()


def test_one_method_is_a_plain_card(clip_files):
    w = SeparationWidget("local", session=False)
    clip_id = w.add_file(clip_files["mix"], methods=["repet"])
    (result,) = w.wait(timeout=300)
    (state,) = w.clips
    assert state["id"] == clip_id and "group" not in state and "run" not in state
    assert result.method == "repet" and state["facts"]["method"] == "repet"
    # And add_file without runs sends no group either (the card is as it always was).
    plain = w.add_file(clip_files["mix"])
    w.wait(timeout=300)
    assert "group" not in w.clip(plain)
    w.close()


def test_a_method_and_a_service_with_a_key_that_never_leaves_the_client(
    emulator: Emulator, clip_files
):
    service = Client(api_key=emulator.api_key, base_url=emulator.base_url)
    w = SeparationWidget("local", session="runs-with-a-service")
    group = w.add_file(clip_files["mix"], methods=["repet"], clients=[service])
    results = w.wait(timeout=300)
    assert [s["run"] for s in w.clips] == ["repet", "127.0.0.1"]
    assert {s["group"] for s in w.clips} == {group}
    assert emulator.submissions == 1
    assert results[1].task_id and results[0].method == "repet"
    _key_nowhere(w, emulator.api_key)
    w.close()
    # The user's client is theirs: the widget closing did not close it.
    assert service.status(results[1].task_id).done

    # The cell again (a new kernel): both runs come back, in one card, nothing re-sent.
    again = SeparationWidget("local", session="runs-with-a-service")
    again.wait(timeout=120)
    assert [(s["group"], s["run"], s["state"]) for s in again.clips] == [
        (group, "repet", "done"),
        (group, "127.0.0.1", "done"),
    ]
    assert emulator.submissions == 1
    _key_nowhere(again, emulator.api_key)
    again.close()
    service.close()


def test_cancel_and_retry_by_the_cards_id_act_on_every_run(clip_files):
    w = SeparationWidget("local", session=False)
    group = w.add_file(clip_files["mix"], methods=["spleeter", "repet"])
    assert w.cancel(group) is True
    assert [s["state"] for s in w.clips] == ["cancelled", "cancelled"]
    assert w.cancel(group) is False  # nothing left to cancel
    w.retry(group)
    w.wait(timeout=300)
    assert [(s["run"], s["state"], s["attempt"]) for s in w.clips] == [
        ("spleeter", "done", 2),
        ("repet", "done", 2),
    ]
    w.close()


def test_add_files_checks_the_runs_before_the_first_file(clip_files, tmp_path):
    w = SeparationWidget("local", session=False)
    with pytest.raises(InputError, match="'nope'"):
        w.add_files([clip_files["mix"], clip_files["mix"]], methods=["repet", "nope"])
    assert w.clips == []
    ids = w.add_files([clip_files["mix"]], methods=["repet", "spleeter"])
    w.wait(timeout=300)
    assert [s["group"] for s in w.clips] == ids * 2
    w.close()


def test_methods_run_on_the_local_engine_when_the_widget_uses_another_service(
    emulator: Emulator, clip_files
):
    w = SeparationWidget(api_key=emulator.api_key, base_url=emulator.base_url, session=False)
    w.add_file(clip_files["mix"], methods=["repet", "spleeter"])
    results = w.wait(timeout=300)
    assert [r.method for r in results] == ["repet", "spleeter"]
    assert emulator.submissions == 0  # the service was not asked to run a local method
    assert {s["facts"]["service"] for s in w.clips} == {"local engine"}
    w.close()
