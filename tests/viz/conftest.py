"""Synthetic stems with known content for the viz tests; Agg backend, no windows."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from camb_notebook.audio import Stems


def make_stems(seconds: float = 2.0, sr: int = 16000, channels: int = 2) -> Stems:
    """Foreground: a 1 kHz tone at -9 dBFS RMS; background: a quieter 200 Hz tone."""
    t = np.arange(int(seconds * sr)) / sr
    fg = 0.5 * np.sin(2 * np.pi * 1000.0 * t)
    bg = 0.05 * np.sin(2 * np.pi * 200.0 * t)
    fg = np.tile(fg, (channels, 1)).astype(np.float32)
    bg = np.tile(bg, (channels, 1)).astype(np.float32)
    return Stems(fg + bg, fg, bg, sr)


@pytest.fixture
def stems() -> Stems:
    return make_stems()


@pytest.fixture
def stems_factory() -> Callable[..., Stems]:
    """``stems_factory(seconds=..., sr=..., channels=...)`` for other lengths and rates."""
    return make_stems
