"""Signals whose measures are known, and helpers to feed meters in uneven blocks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def tone(freq: float, peak: float, seconds: float, sr: int, channels: int = 1) -> np.ndarray:
    """A sine of amplitude ``peak`` on every channel, float64 ``(channels, n)``."""
    t = np.arange(round(seconds * sr)) / sr
    return np.repeat((peak * np.sin(2 * np.pi * freq * t))[None], channels, axis=0)


def clicks(times: list[float], seconds: float, sr: int, width: int = 32) -> np.ndarray:
    """Short broadband clicks (a Hann-shaped burst of noise) at ``times``, mono float32."""
    y = np.zeros(round(seconds * sr), np.float32)
    burst = np.hanning(width) * np.random.default_rng(0).uniform(-1, 1, width)
    for t in times:
        i = round(t * sr)
        y[i : i + width] += 0.8 * burst[: len(y) - i].astype(np.float32)
    return y


def uneven_blocks(x: np.ndarray, seed: int = 0, largest: int = 30000) -> Iterator[np.ndarray]:
    """``x`` cut along its last axis into blocks of random sizes (1 to ``largest``)."""
    rng = np.random.default_rng(seed)
    i = 0
    n = x.shape[-1]
    while i < n:
        k = int(rng.integers(1, largest))
        yield x[..., i : i + k]
        i += k


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def example_original() -> np.ndarray:
    """The bundled example's mixture, mono at 22.05 kHz (15 s)."""
    from camb_notebook.examples import example_truth

    truth = example_truth()
    return librosa_resample(truth.original.mean(axis=0), truth.sr, 22050)


@pytest.fixture(scope="session")
def example_foreground_8k() -> np.ndarray:
    """The bundled example's voice, mono at 8 kHz."""
    from camb_notebook.examples import example_truth

    truth = example_truth()
    return librosa_resample(truth.foreground.mean(axis=0), truth.sr, 8000)


def librosa_resample(y: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    import librosa

    return librosa.resample(y, orig_sr=sr_in, target_sr=sr_out).astype(np.float32)
