"""An hour-long clip is measured in bounded memory: it is never decoded whole."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from camb_notebook.analysis import MEASURES
from camb_notebook.audio import open_writer

SR = 8000
HOUR = 3600


def write_hour(path: Path, seconds: int = HOUR) -> Path:
    """Block by block: a 220 Hz tone 4 s in every 7, a noise click every 0.5 s."""
    rng = np.random.default_rng(0)
    with open_writer(path, SR, 1, format="flac") as w:
        for start in range(0, seconds * SR, 10 * SR):
            t = (start + np.arange(10 * SR)) / SR
            tone = 0.2 * np.sin(2 * np.pi * 220 * t) * ((t % 7) < 4)
            click = 0.3 * rng.standard_normal(t.size) * ((t % 0.5) < 0.01)
            w.write((tone + click)[None].astype(np.float32))
    return path


@pytest.mark.slow
def test_an_hour_long_file_and_stems_are_measured_in_bounded_memory(tmp_path: Path) -> None:
    hour = write_hour(tmp_path / "hour.flac")
    short = write_hour(tmp_path / "short.flac", seconds=10)  # padded with silence to an hour
    child = Path(__file__).with_name("_hour_child.py")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [sys.executable, str(child), str(hour), str(short)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    whole = HOUR * SR * 4  # the clip decoded as float32: 115 MB
    assert out["file_peak"] < whole / 4, out["file_peak"]
    assert out["stems_peak"] < whole / 4, out["stems_peak"]
    m = out["file"]
    # Silent 3 s in every 7, but for the 100 ms window of each click (one in five).
    assert m["silence_fraction"] == pytest.approx(3 / 7 * 4 / 5, abs=0.01)
    assert m["peak_dbfs"] > -10 and math.isfinite(m["loudness_lufs"])
    assert m["centroid_hz"] > 220
    stems = out["stems"]
    assert stems["original"] == stems["foreground"]
    assert stems["background"]["silence_fraction"] > 0.99  # 10 s of sound, then padding


def _stream(seconds: float, sr: int, block: int = 1 << 15):
    """The hour file's signal, generated block by block (nothing held)."""
    rng = np.random.default_rng(0)
    for start in range(0, int(seconds * sr), block):
        t = (start + np.arange(block)) / sr
        tone = 0.2 * np.sin(2 * np.pi * 220 * t) * ((t % 7) < 4)
        click = 0.3 * rng.standard_normal(block) * ((t % 0.5) < 0.01)
        yield (tone + click).astype(np.float32)


def _peak(meter, seconds: float, sr: int) -> tuple[int, dict[str, float]]:
    import tracemalloc

    tracemalloc.start()
    try:
        for block in _stream(seconds, sr):
            meter.push(block)
        result = meter.result()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["onsets", "voicing"])
def test_onset_and_voicing_memory_stays_flat_as_the_stream_grows(kind: str) -> None:
    from camb_notebook.analysis._rhythm import RHYTHM_SR, OnsetMeter
    from camb_notebook.analysis._voicing import VOICING_SR, VoicingMeter

    make, sr, short = {
        "onsets": (OnsetMeter, RHYTHM_SR, 100.0),
        "voicing": (VoicingMeter, VOICING_SR, 70.0),  # a block of pYIN is 65 s
    }[kind]
    make().push(np.zeros(sr, np.float32))  # numba's JIT and librosa's caches, once
    small, _ = _peak(make(), short, sr)
    large, result = _peak(make(), 4 * short, sr)
    assert large < 1.25 * small + 2_000_000, (small, large)
    if kind == "onsets":
        assert result["onset_rate"] == pytest.approx(2.0, abs=0.05)
        assert result["tempo_bpm"] == pytest.approx(120, abs=3)
    else:
        assert result["voiced_fraction"] == pytest.approx(4 / 7, abs=0.05)


# pYIN (voiced_fraction) costs seconds per minute: its memory is checked on streams above.
_NOT_PYIN = [m for m in MEASURES if m != "voiced_fraction"]


def _file_peak(path: Path) -> tuple[int, dict[str, float]]:
    import tracemalloc

    from camb_notebook import analysis

    tracemalloc.start()
    try:
        result = analysis.measure(path, measures=_NOT_PYIN)
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_measuring_a_4x_longer_file_takes_no_more_memory(tmp_path: Path) -> None:
    from camb_notebook import analysis

    short = write_hour(tmp_path / "short.flac", seconds=30)
    long = write_hour(tmp_path / "long.flac", seconds=120)
    analysis.measure(short, measures=_NOT_PYIN)  # imports, librosa's caches: once
    small, _ = _file_peak(short)
    large, m = _file_peak(long)
    assert large < 1.25 * small + 2_000_000, (small, large)
    # and the answers are the signal's: clicks every 0.5 s, a tone 4 s in every 7
    assert m["onset_rate"] == pytest.approx(2.0, abs=0.05)
    assert m["tempo_bpm"] == pytest.approx(120, abs=3)
    assert m["silence_fraction"] == pytest.approx(3 / 7 * 4 / 5, abs=0.01)
