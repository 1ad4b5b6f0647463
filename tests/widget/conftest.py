"""Real clips and a controllable stand-in pipeline for the widget's model and runner tests.

The stand-in does what a client does from the runner's point of view: it reports
states, blocks while "separating" until the test lets it go, and returns a real
``SeparationResult`` whose stems are real audio files written with soundfile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from camb_notebook.api import SeparationResult

SR = 22050


def make_stems(seconds: float = 2.0, sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """(foreground, background), each (2, n) float32: a melody and a noise bed."""
    t = np.arange(int(seconds * sr)) / sr
    melody = 0.3 * np.sin(2 * np.pi * (330 + 110 * (np.floor(t * 4) % 3)) * t)
    bed = 0.05 * np.random.default_rng(3).standard_normal((2, t.size))
    fg = np.stack([melody, 0.8 * melody]).astype(np.float32)
    return fg, bed.astype(np.float32)


@pytest.fixture
def clip_files(tmp_path: Path) -> dict[str, Path]:
    """A 2 s stereo mix and its two stems on disk, plus a text file posing as audio."""
    fg, bg = make_stems()
    files = {
        "mix": tmp_path / "mix.wav",
        "foreground": tmp_path / "stems" / "foreground.flac",
        "background": tmp_path / "stems" / "background.flac",
        "text": tmp_path / "notes.wav",
    }
    files["foreground"].parent.mkdir()
    sf.write(files["mix"], (fg + bg).T, SR, subtype="PCM_16")
    sf.write(files["foreground"], fg.T, SR)
    sf.write(files["background"], bg.T, SR)
    files["text"].write_text("these are meeting notes, not audio\n" * 20)
    return files


class StandInPipeline:
    """A pipeline the test steers: ``release`` lets a run finish, ``fail_with`` makes it raise.

    ``separating`` is set once a run is inside the (blocked) separation step.
    """

    def __init__(self, files: dict[str, Path], *, gate: bool = False) -> None:
        self.files = files
        self.release = threading.Event()
        if not gate:
            self.release.set()
        self.separating = threading.Event()
        self.fail_with: BaseException | None = None
        self.runs = 0
        self.after_release: Callable[[Any], None] | None = None

    def __call__(self, path: Path, report: Any) -> SeparationResult:
        from camb_notebook.audio import probe

        self.runs += 1
        report("validating")
        info = probe(path)
        report("submitting", 0.0, duration=info.duration)
        report("queued")
        report("separating", 0.25)
        self.separating.set()
        while not self.release.wait(0.02):
            if report.cancel.is_set():
                break
        if self.after_release is not None:
            self.after_release(report)
        if self.fail_with is not None:
            raise self.fail_with
        report("separating", 0.75)
        report("downloading")
        return SeparationResult(
            Path(path),
            self.files["foreground"],
            self.files["background"],
            task_id=f"task-{self.runs}",
            base_url="stand-in",
            method="stand-in",
        )


@pytest.fixture
def stand_in(clip_files: dict[str, Path]) -> StandInPipeline:
    return StandInPipeline(clip_files)


@pytest.fixture
def gated(clip_files: dict[str, Path]) -> StandInPipeline:
    return StandInPipeline(clip_files, gate=True)
