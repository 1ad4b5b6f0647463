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


def test_from_files_aligns_rate_and_length(tmp_path: Path) -> None:
    x = tone_mix(3.0)
    orig = audio.save(tmp_path / "orig.wav", x, SR)
    # Stems come back at another rate and longer, as a service might send them.
    fg = audio.save(tmp_path / "fg.flac", audio.resample(0.5 * x, SR, 48000), 48000)
    bg_long = np.pad(audio.resample(0.5 * x, SR, 48000), ((0, 0), (0, 4800)))
    bg = audio.save(tmp_path / "bg.flac", bg_long, 48000)
    s = audio.Stems.from_files(orig, fg, bg)
    assert s.foreground.shape == x.shape and s.sr == SR
    assert audio.sdr(x, s.foreground + s.background) > 30


def test_mono_stems_fill_every_channel_of_a_stereo_original(tmp_path: Path) -> None:
    x = tone_mix(3.0)  # stereo, the channels differ
    mono = x.mean(axis=0, keepdims=True)
    from_arrays = audio.Stems.from_arrays(x, 0.7 * mono, 0.3 * mono, SR)
    fg = audio.save(tmp_path / "fg.flac", 0.7 * mono, SR)
    bg = audio.save(tmp_path / "bg.flac", 0.3 * mono, SR)
    from_files = audio.Stems.from_files(audio.save(tmp_path / "orig.wav", x, SR), fg, bg)
    for s in (from_arrays, from_files):
        assert s.foreground.shape == s.background.shape == x.shape
        for channel in range(2):  # each channel carries the mono stem
            assert audio.sdr(0.7 * mono[0], s.foreground[channel]) > 60
            assert audio.sdr(0.3 * mono[0], s.background[channel]) > 60


def test_stereo_stems_are_mixed_down_for_a_mono_original(tmp_path: Path) -> None:
    x = tone_mix(3.0)
    mono = x.mean(axis=0, keepdims=True)
    from_arrays = audio.Stems.from_arrays(mono, 0.7 * x, 0.3 * x, SR)
    fg = audio.save(tmp_path / "fg.flac", 0.7 * x, SR)
    bg = audio.save(tmp_path / "bg.flac", 0.3 * x, SR)
    from_files = audio.Stems.from_files(audio.save(tmp_path / "orig.wav", mono, SR), fg, bg)
    for s in (from_arrays, from_files):
        assert s.foreground.shape == s.background.shape == mono.shape
        # The average of the two channels, so the stems still add up to the original.
        assert audio.sdr(0.7 * mono, s.foreground) > 60
        assert audio.sdr(0.3 * mono, s.background) > 60
        assert audio.sdr(mono, s.foreground + s.background) > 60


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
