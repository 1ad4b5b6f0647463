from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camb_notebook import audio

SR = 44100


def tone_mix(seconds: float = 2.0, sr: int = SR, channels: int = 2) -> np.ndarray:
    """A deterministic stereo test signal: two tones and a little noise."""
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(1)
    left = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.02 * rng.standard_normal(t.size)
    right = 0.3 * np.sin(2 * np.pi * 660 * t) + 0.02 * rng.standard_normal(t.size)
    x = np.stack([left, right])[:channels]
    return x.astype(np.float32)


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One real 2 s stereo clip in every supported format, keyed by extension."""
    root = tmp_path_factory.mktemp("clips")
    x = tone_mix()
    return {ext: audio.save(root / f"clip.{ext}", x, SR) for ext in audio_exts()}


def audio_exts() -> list[str]:
    return ["wav", "flac", "mp3", "m4a", "ogg"]
