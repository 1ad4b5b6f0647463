"""SeparationWidget's public Python methods: ``add_files``, ``cancel`` and ``retry``.

With the steerable stand-in pipeline (conftest) for the exact transitions, and once with the
real embedded engine behind the widget.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from camb_notebook._exceptions import CambError, InputError
from camb_notebook.widget import SeparationWidget

from .conftest import StandInPipeline


@pytest.fixture
def two_clips(clip_files: dict[str, Path], tmp_path: Path) -> list[Path]:
    second = tmp_path / "second.wav"
    shutil.copy(clip_files["mix"], second)
    return [clip_files["mix"], second]


def test_add_files_starts_each_clip_and_keeps_their_order(
    stand_in: StandInPipeline, two_clips: list[Path]
) -> None:
    w = SeparationWidget(pipeline=stand_in)
    try:
        ids = w.add_files(str(p) for p in two_clips)  # any iterable of path-likes
        assert len(ids) == 2 and len(set(ids)) == 2
        assert [c["id"] for c in w.clips] == ids
        assert [c["name"] for c in w.clips] == ["mix.wav", "second.wav"]
        results = w.wait(timeout=60)
        assert [r.original for r in results] == two_clips
        assert [w.clip(i)["state"] for i in ids] == ["done", "done"]
        assert stand_in.runs == 2
    finally:
        w.close()


def test_add_files_stops_at_a_missing_file_naming_it(
    stand_in: StandInPipeline, clip_files: dict[str, Path], tmp_path: Path
) -> None:
    w = SeparationWidget(pipeline=stand_in)
    try:
        missing = tmp_path / "gone.wav"
        with pytest.raises(InputError, match=r"gone\.wav: no such file"):
            w.add_files([clip_files["mix"], missing])
        assert [c["name"] for c in w.clips] == ["mix.wav"]  # the one before it still runs
        assert w.add_files([]) == []
    finally:
        w.close()


def test_cancel_by_id_or_name(gated: StandInPipeline, two_clips: list[Path]) -> None:
    w = SeparationWidget(pipeline=gated, max_workers=1)
    try:
        first, second = w.add_files(two_clips)
        assert gated.separating.wait(30)
        assert w.cancel(first) is True  # running: stopped at once
        assert w.clip(first)["state"] == "cancelled"
        assert w.cancel("second.wav") is True  # by file name, while still waiting its turn
        assert w.clip(second)["state"] == "cancelled"
        gated.release.set()
        assert w.wait(timeout=30) == []  # cancelled clips have no result, and do not raise
        assert w.errors == {}
        assert w.cancel(first) is False  # already finished
        with pytest.raises(InputError, match=r"no clip 'nope'; clips: mix\.wav, second\.wav"):
            w.cancel("nope")
    finally:
        w.close()


def test_retry_runs_a_cancelled_or_failed_clip_again(
    gated: StandInPipeline, clip_files: dict[str, Path]
) -> None:
    w = SeparationWidget(pipeline=gated)
    try:
        clip_id = w.add_file(clip_files["mix"])
        assert gated.separating.wait(30)
        with pytest.raises(InputError, match=r"mix\.wav is still separating; cancel it first"):
            w.retry(clip_id)
        w.cancel(clip_id)
        gated.release.set()
        w.retry("mix.wav")
        w.wait(timeout=60)
        assert w.clip(clip_id)["state"] == "done" and w.clip(clip_id)["attempt"] == 2

        gated.fail_with = CambError("the service fell over")
        w.retry(clip_id)  # a finished clip can be run again too
        w.wait(timeout=60)
        assert w.clip(clip_id)["state"] == "failed" and "fell over" in str(w.errors["mix.wav"])
        gated.fail_with = None
        w.retry(clip_id)
        (result,) = w.wait(timeout=60)
        assert w.clip(clip_id)["attempt"] == 4 and w.errors == {}
        assert result.original == clip_files["mix"] and gated.runs == 4
    finally:
        w.close()


@pytest.mark.slow
def test_add_files_cancel_and_retry_on_the_local_engine(two_clips: list[Path]) -> None:
    w = SeparationWidget(method="repet", max_workers=1)
    try:
        first, second = w.add_files(two_clips)
        assert w.cancel(second) is True  # one worker: it has not started yet
        w.wait(timeout=300)
        assert w.clip(first)["state"] == "done" and w.clip(second)["state"] == "cancelled"
        w.retry(second)
        results = w.wait(timeout=300)
        assert [r.original for r in results] == two_clips
        for result in results:
            stems = result.stems()
            assert stems.foreground.shape == stems.original.shape
    finally:
        w.close()
