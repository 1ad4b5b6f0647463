"""The background runner: state transitions, errors surfacing in the clip, cancel and retry."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

from camb_notebook._exceptions import AudioFormatError, TaskFailedError
from camb_notebook.widget._runner import Clip, Runner
from camb_notebook.widget._states import FINAL_STATES


def _runner(pipeline, **kw):
    states: list[tuple[str, str, float | None]] = []
    lock = threading.Lock()

    def on_change(clip: Clip) -> None:
        with lock:
            if not states or states[-1][1:] != (clip.state, clip.progress):
                states.append((clip.name, clip.state, clip.progress))

    return Runner(pipeline, on_change, **kw), states


def _clip(path: Path) -> Clip:
    return Clip(id=path.stem, name=path.name, size=path.stat().st_size, path=path)


def test_preparing_moves_in_small_steps(stand_in, clip_files):
    runner, states = _runner(stand_in)
    runner.start(_clip(clip_files["mix"])).result(timeout=60)
    steps = [p for _, s, p in states if s == "preparing" and p is not None]
    assert len(steps) >= 4 and steps == sorted(steps), steps
    assert max(b - a for a, b in itertools.pairwise(steps)) <= 0.25, steps
    runner.close()


def test_restore_skips_the_pipeline(stand_in, clip_files):
    """A finished separation found again (after a kernel restart) only needs its media."""
    from camb_notebook.api import SeparationResult

    runner, states = _runner(stand_in)
    clip = Clip(id="c", name="mix.wav")
    found = SeparationResult(
        clip_files["mix"], clip_files["foreground"], clip_files["background"], reused=True
    )
    runner.start(clip, result=found).result(timeout=60)
    assert stand_in.runs == 0 and clip.state == "done" and clip.facts["reused"] is True
    assert [s for _, s, _ in states if s not in ("preparing",)] == ["waiting", "done"]
    runner.close()


def test_a_clip_walks_through_every_state_in_order(stand_in, clip_files):
    runner, states = _runner(stand_in)
    clip = _clip(clip_files["mix"])
    runner.start(clip).result(timeout=60)
    order = [s for _, s, _ in states]
    expected = ["waiting", "validating", "submitting", "queued", "separating", "downloading"]
    positions = [order.index(s) for s in [*expected, "preparing", "done"]]
    assert positions == sorted(positions), order
    assert order[-1] == "done" and clip.finished
    assert clip.lanes == ["original", "foreground", "background"]
    assert set(clip.visuals) == {"original", "foreground", "background"}
    assert clip.preview is not None and clip.preview.audio[:4] == b"OggS"
    assert clip.picture.startswith("data:image/png;base64,")
    assert clip.facts["duration"] == pytest.approx(2.0, abs=0.01)
    assert clip.facts["method"] == "stand-in"
    assert clip.levels["residual"] < clip.levels["background"] - 30  # stems sum to the mix
    assert clip.elapsed > 0 and clip.done_event.is_set()
    runner.close()


def test_separating_reports_percent_and_elapsed(gated, clip_files):
    runner, states = _runner(gated)
    clip = _clip(clip_files["mix"])
    runner.start(clip)
    assert gated.separating.wait(30)
    state = clip.to_state()
    assert state["state"] == "separating" and state["progress"] == 0.25
    assert state["elapsed"] >= 0 and clip.started is not None
    gated.release.set()
    assert clip.done_event.wait(60)
    assert ("mix.wav", "separating", 0.75) in states
    runner.close()


def test_bad_input_fails_with_reason_and_what_to_do(stand_in, clip_files):
    runner, _ = _runner(stand_in)
    clip = _clip(clip_files["text"])
    runner.start(clip).result(timeout=30)
    assert clip.state == "failed"
    assert isinstance(clip.error, AudioFormatError)
    assert "notes.wav" in clip.message and "FLAC, MP3, WAV" in clip.message
    # The same file would fail again: the card offers another file, not Retry, and the hint
    # adds that instead of repeating the formats.
    assert clip.action == "choose-file" and "FLAC" not in clip.hint and clip.hint
    assert "AudioFormatError" in clip.traceback
    runner.close()


def test_service_failure_reason_maps_to_advice(stand_in, clip_files):
    stand_in.fail_with = TaskFailedError(
        "task t-1 failed: SOURCE_TOO_LONG", exception_reason="SOURCE_TOO_LONG", status="ERROR"
    )
    runner, _ = _runner(stand_in)
    clip = _clip(clip_files["mix"])
    runner.start(clip).result(timeout=30)
    assert clip.state == "failed" and "SOURCE_TOO_LONG" in clip.message
    assert clip.action == "choose-file"  # retrying the same file cannot help
    assert "fail the same way" in clip.hint
    stand_in.fail_with = TaskFailedError(
        "task t-2 failed", exception_reason="PROCESSING_ERROR", status="ERROR"
    )
    runner.start(clip).result(timeout=30)
    assert clip.action == "retry" and "Retry" in clip.hint  # a service hiccup: retrying can help
    runner.close()


def test_unexpected_exception_surfaces_with_its_type(stand_in, clip_files):
    stand_in.fail_with = ZeroDivisionError("division by zero")
    runner, _ = _runner(stand_in)
    clip = _clip(clip_files["mix"])
    runner.start(clip).result(timeout=30)
    assert clip.state == "failed"
    assert clip.message == "ZeroDivisionError: division by zero"
    assert "w.errors" in clip.hint
    assert isinstance(clip.error, ZeroDivisionError)
    runner.close()


def test_cancel_stops_at_once_and_a_late_result_is_ignored(gated, clip_files):
    runner, states = _runner(gated)
    clip = _clip(clip_files["mix"])
    future = runner.start(clip)
    assert gated.separating.wait(30)
    assert runner.cancel(clip) is True
    assert clip.state == "cancelled" and clip.done_event.is_set()
    # The stand-in cannot stop tasks: the card says the task may still run there.
    assert "may still run there" in clip.hint and clip.action == "retry"
    future.result(timeout=30)  # the worker noticed the cancel event and stopped
    assert clip.state == "cancelled" and clip.result is None and clip.visuals == {}
    assert states[-1][1] == "cancelled"
    assert runner.cancel(clip) is False  # already finished
    runner.close()


def test_a_cancelled_run_cannot_overwrite_its_retry(gated, clip_files):
    runner, _ = _runner(gated)
    clip = _clip(clip_files["mix"])
    first = runner.start(clip)
    assert gated.separating.wait(30)
    runner.cancel(clip)
    first.result(timeout=30)
    gated.separating.clear()
    second = runner.start(clip)
    assert clip.attempt == 2 and clip.state not in FINAL_STATES
    assert gated.separating.wait(30)
    gated.release.set()
    second.result(timeout=60)
    assert clip.state == "done" and clip.result.task_id == "task-2"
    runner.close()


def test_retry_after_failure_runs_again(stand_in, clip_files):
    stand_in.fail_with = ConnectionResetError("peer reset")
    runner, _ = _runner(stand_in)
    clip = _clip(clip_files["mix"])
    runner.start(clip).result(timeout=30)
    assert clip.state == "failed"
    stand_in.fail_with = None
    runner.start(clip).result(timeout=60)
    assert clip.state == "done" and clip.error is None and clip.message == ""
    runner.close()


def test_several_clips_run_at_once(gated, clip_files, tmp_path):
    runner, _ = _runner(gated, max_workers=2)
    other = tmp_path / "other.wav"
    other.write_bytes(clip_files["mix"].read_bytes())
    clips = [_clip(clip_files["mix"]), _clip(other)]
    for clip in clips:
        runner.start(clip)
    # Both are inside the blocked separation step at the same time.
    for _ in range(500):
        if all(c.state == "separating" for c in clips):
            break
        threading.Event().wait(0.02)
    assert [c.state for c in clips] == ["separating", "separating"]
    gated.release.set()
    for clip in clips:
        assert clip.done_event.wait(60)
    assert [c.state for c in clips] == ["done", "done"]
    runner.close()


def test_residual_lane_is_prepared_on_demand(stand_in, clip_files):
    changed = threading.Event()
    runner, _ = _runner(stand_in)
    clip = _clip(clip_files["mix"])
    runner.start(clip).result(timeout=60)
    original_on_change = runner.on_change
    runner.on_change = lambda c: (original_on_change(c), changed.set())
    runner.prepare_extra_lane(clip, "residual")
    assert changed.wait(30)
    assert clip.lanes[-1] == "residual" and "residual" in clip.visuals
    assert clip.visuals["residual"].level_db < -60
    runner.close()


def test_every_change_is_reported_in_the_starting_threads_context(stand_in, clip_files):
    """ipykernel 7.0.0 kept the parent header in a ContextVar and raised LookupError when a
    thread without it sent a comm message: every report must carry the caller's context,
    including the ones made by the threads that prepare the media."""
    import contextvars

    parent: contextvars.ContextVar[str] = contextvars.ContextVar("parent")
    parent.set("cell-1")
    missing: list[str] = []

    def on_change(clip: Clip) -> None:
        if parent.get(None) != "cell-1":
            missing.append(f"{threading.current_thread().name}: {clip.state} {clip.progress}")

    runner = Runner(stand_in, on_change)
    runner.start(_clip(clip_files["mix"])).result(timeout=60)
    assert missing == []
    runner.close()
