from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camb_notebook import audio
from camb_notebook._exceptions import InputError

from .conftest import SR, tone_mix


def test_stems_levels_and_residual() -> None:
    x = tone_mix(1.0)
    s = audio.Stems(x, 0.7 * x, 0.3 * x, SR)
    lv = s.levels()
    assert lv["residual"] < -100
    assert lv["foreground"] == pytest.approx(lv["original"] + 20 * np.log10(0.7), abs=0.01)
    assert s.duration == pytest.approx(1.0) and s.channels == 2


def test_stems_reject_mismatched_shapes() -> None:
    x = tone_mix(1.0)
    with pytest.raises(InputError, match="share one"):
        audio.Stems(x, x[:, :10], x, SR)


def test_from_files_aligns_rate_length_and_channels(tmp_path: Path) -> None:
    x = tone_mix(3.0)
    orig = audio.save(tmp_path / "orig.wav", x, SR)
    # Stems come back at another rate, mono and longer, as a service might send them.
    fg = audio.save(tmp_path / "fg.flac", audio.resample(0.5 * x, SR, 48000), 48000)
    bg_long = np.pad(audio.resample(0.5 * x, SR, 48000), ((0, 0), (0, 4800)))
    bg = audio.save(tmp_path / "bg.flac", bg_long, 48000)
    s = audio.Stems.from_files(orig, fg, bg)
    assert s.foreground.shape == x.shape and s.sr == SR
    assert audio.sdr(x, s.foreground + s.background) > 30


def test_from_arrays_removes_codec_delay() -> None:
    x = tone_mix(8.0)
    rng = np.random.default_rng(3)
    x = x + 0.2 * rng.standard_normal(x.shape).astype(np.float32)  # broadband: clear peak
    delayed = np.pad(x, ((0, 0), (1105, 0)))  # AAC-style priming
    s = audio.Stems.from_arrays(x, 0.5 * delayed, 0.5 * delayed, SR)
    assert audio.sdr(x, s.foreground + s.background) > 60


def test_sdr_definition() -> None:
    ref = np.ones((2, 10))
    assert audio.sdr(ref, ref) > 100
    assert audio.sdr(ref, np.zeros_like(ref)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(InputError, match="differ"):
        audio.sdr(ref, ref[:, :5])


def test_rms_db_of_silence_and_sine() -> None:
    t = np.arange(SR) / SR
    assert audio.rms_db(np.sin(2 * np.pi * 100 * t)) == pytest.approx(-3.01, abs=0.01)
    assert audio.rms_db(np.zeros(5)) == -120.0
