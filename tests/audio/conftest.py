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


def broadband(seconds: float, sr: int = SR, channels: int = 2, seed: int = 2) -> np.ndarray:
    """Tones over noise whose level drifts: cross-correlation has one clear peak, and AAC
    codes the noise with PNS (the case where a decoder's state never converges)."""
    n = round(seconds * sr)
    t = np.arange(n) / sr
    rng = np.random.default_rng(seed)
    swell = 0.5 + 0.5 * np.sin(2 * np.pi * t / 3.7)
    rows = [
        0.25 * np.sin(2 * np.pi * f * t) + 0.08 * swell * rng.standard_normal(n)
        for f in (330.0, 495.0)[:channels]
    ]
    return np.stack(rows).astype(np.float32)


def lag(reference: np.ndarray, decoded: np.ndarray) -> int:
    """Samples by which ``decoded`` lags ``reference`` (the cross-correlation peak)."""
    a, b = reference.mean(axis=0), decoded.mean(axis=0)
    n = min(a.size, b.size)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    corr = np.fft.irfft(np.fft.rfft(b[:n], size) * np.conj(np.fft.rfft(a[:n], size)), size)
    k = int(np.argmax(corr))
    return k if k < size // 2 else k - size


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """Debian's ffmpeg command line, used by tests only (to make and check files)."""
    import shutil

    found = shutil.which("ffmpeg")
    if found is None:
        pytest.skip("needs Debian's ffmpeg for reference files (apt-get install ffmpeg)")
    return found


def run_ffmpeg(ffmpeg: str, *args: object) -> None:
    import subprocess

    subprocess.run([ffmpeg, "-v", "error", "-y", *map(str, args)], check=True)
