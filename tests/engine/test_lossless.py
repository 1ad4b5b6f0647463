"""Stem files: written losslessly by the worker, converted block by block by the server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from camb_notebook.engine._lossless import converted, write_stem

#: 24-bit FLAC quantises to 2**-23 (half a step either way).
FLAC_STEP = 2.0**-23


def _read(path: Path) -> np.ndarray:
    data, _ = sf.read(path, dtype="float32", always_2d=True)
    return data.T


def test_flac_clipping_is_counted_and_wav_is_exact(tmp_path: Path):
    loud = np.array([[0.5, 1.5, -2.0, 0.25]], dtype=np.float32)
    name, clipped = write_stem(tmp_path, "foreground", loud, 8000, "flac")
    assert (name, clipped) == ("foreground.flac", 2)
    name, clipped = write_stem(tmp_path, "background", loud, 8000, "wav")
    assert clipped == 0 and np.array_equal(_read(tmp_path / name), loud)
    assert not list(tmp_path.glob("*.part"))


def test_more_than_eight_channels_are_stored_as_wav(tmp_path: Path):
    wide = np.zeros((9, 100), dtype=np.float32)
    assert write_stem(tmp_path, "foreground", wide, 8000, "flac") == ("foreground.wav", 0)


def test_conversion_both_ways_across_blocks(tmp_path: Path):
    """Longer than one conversion block: every block arrives, in order, losslessly."""
    rng = np.random.default_rng(3)
    stem = (0.4 * rng.standard_normal((2, 150_000))).astype(np.float32)
    write_stem(tmp_path, "background", stem, 44100, "wav")
    flac = converted(tmp_path / "background.wav", "flac")
    assert flac == tmp_path / "background.flac"
    assert sf.info(flac).subtype == "PCM_24"
    from_flac = _read(flac)
    assert from_flac.shape == stem.shape
    assert np.max(np.abs(from_flac - np.clip(stem, -1, 1))) <= FLAC_STEP

    (tmp_path / "background.wav").unlink()  # and back: 24-bit values fit a float exactly
    wav = converted(flac, "wav")
    assert np.array_equal(_read(wav), from_flac)
    assert sf.info(wav).subtype == "FLOAT"


def test_a_file_already_in_the_format_is_served_as_it_is(tmp_path: Path):
    write_stem(tmp_path, "foreground", np.zeros((1, 10), np.float32), 8000, "flac")
    stored = tmp_path / "foreground.flac"
    before = stored.stat().st_mtime_ns
    assert converted(stored, "flac") == stored
    assert stored.stat().st_mtime_ns == before
