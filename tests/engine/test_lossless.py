"""Stem files: converted block by block by the server, losslessly, from the stored format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from camb_notebook.audio import save
from camb_notebook.engine._lossless import converted

#: 24-bit FLAC quantises to 2**-23 (half a step either way).
FLAC_STEP = 2.0**-23


def _read(path: Path) -> np.ndarray:
    data, _ = sf.read(path, dtype="float32", always_2d=True)
    return data.T


def test_conversion_both_ways_across_blocks(tmp_path: Path):
    """Longer than one conversion block: every block arrives, in order, losslessly."""
    rng = np.random.default_rng(3)
    stem = (0.4 * rng.standard_normal((2, 150_000))).astype(np.float32)
    save(tmp_path / "background.wav", stem, 44100)
    flac = converted(tmp_path / "background.wav", "flac")
    assert flac == tmp_path / "background.flac"
    assert sf.info(flac).subtype == "PCM_24"
    from_flac = _read(flac)
    assert from_flac.shape == stem.shape
    assert np.max(np.abs(from_flac - np.clip(stem, -1, 1))) <= FLAC_STEP
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*"))

    (tmp_path / "background.wav").unlink()  # and back: 24-bit values fit a float exactly
    wav = converted(flac, "wav")
    assert np.array_equal(_read(wav), from_flac)
    assert sf.info(wav).subtype == "FLOAT"


def test_a_file_already_in_the_format_is_served_as_it_is(tmp_path: Path):
    stored = save(tmp_path / "foreground.flac", np.zeros((1, 10), np.float32), 8000)
    before = stored.stat().st_mtime_ns
    assert converted(stored, "flac") == stored
    assert stored.stat().st_mtime_ns == before
