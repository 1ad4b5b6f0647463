"""The three signals of one separation, aligned, and the numbers that describe them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import InputError
from ._io import load, resample

__all__ = ["Stems", "rms_db", "sdr"]

_SILENCE_DB = -120.0


def rms_db(x: np.ndarray) -> float:
    """RMS level in dB relative to full scale (a full-scale sine is −3 dBFS).

    Examples
    --------
    >>> round(rms_db(np.ones(100)), 1)
    0.0
    >>> rms_db(np.zeros(100))
    -120.0
    """
    x = np.asarray(x)
    if x.size == 0:
        return _SILENCE_DB
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    # A BLAS dot product per block: no float64 copy of a 10-minute clip, and each
    # block's partial sum is added in float64 so precision holds for long clips.
    flat = np.ravel(x)
    block = 1 << 20
    energy = sum(
        float(np.dot(flat[i : i + block], flat[i : i + block])) for i in range(0, flat.size, block)
    )
    power = energy / flat.size
    return max(float(10.0 * np.log10(power)), _SILENCE_DB) if power > 0 else _SILENCE_DB


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Global signal-to-distortion ratio in dB, as in the Sound Demixing Challenge.

    ``10·log10(Σ s² / Σ (s − ŝ)²)`` over the whole clip and all channels.

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(channels, n)]
        Same shape; the true stem and our estimate of it.

    Examples
    --------
    >>> s = np.ones((2, 100))
    >>> round(sdr(s, 0.9 * s), 1)
    20.0
    """
    reference = np.asarray(reference, dtype=np.float64)
    estimate = np.asarray(estimate, dtype=np.float64)
    if reference.shape != estimate.shape:
        raise InputError(
            f"reference shape {reference.shape} and estimate shape {estimate.shape} differ"
        )
    eps = 1e-12
    num = float(np.sum(reference**2)) + eps
    den = float(np.sum((reference - estimate) ** 2)) + eps
    return float(10.0 * np.log10(num / den))


def _fit(x: np.ndarray, channels: int, n: int, shift: int = 0) -> np.ndarray:
    """Drop ``shift`` leading samples, then trim or zero-pad to ``n`` and match channels."""
    x = x[:, shift:] if shift > 0 else np.pad(x, ((0, 0), (-shift, 0)))
    if x.shape[0] != channels:
        x = np.repeat(x.mean(axis=0, keepdims=True), channels, axis=0)
    if x.shape[1] >= n:
        return np.ascontiguousarray(x[:, :n])
    return np.pad(x, ((0, 0), (0, n - x.shape[1])))


def _codec_delay(original: np.ndarray, estimate: np.ndarray, max_lag: int = 4096) -> int:
    """Samples by which ``estimate`` lags ``original`` (codec priming), found by
    cross-correlating the first few seconds; 0 unless the peak is clear."""
    n = min(original.shape[1], estimate.shape[1], 1 << 18)
    if n < 4 * max_lag:
        return 0
    a = original[:, :n].mean(axis=0)
    b = estimate[:, :n].mean(axis=0)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    corr = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    lags = np.concatenate([corr[: max_lag + 1], corr[-max_lag:]])
    best = int(np.argmax(np.abs(lags)))
    lag = best if best <= max_lag else best - len(lags)
    zero = abs(corr[0])
    return lag if abs(lags[best]) > 1.2 * zero + 1e-9 else 0


@dataclass
class Stems:
    """Original, foreground and background of one clip, same rate, shape and length.

    Parameters
    ----------
    original, foreground, background : np.ndarray [shape=(channels, n), dtype=float32]
    sr : int

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((2, 1000)).astype(np.float32) * 0.1
    >>> s = Stems(x, 0.5 * x, 0.5 * x, 44100)
    >>> s.levels()["residual"]
    -120.0
    """

    original: np.ndarray
    foreground: np.ndarray
    background: np.ndarray
    sr: int
    _residual: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        shapes = {self.original.shape, self.foreground.shape, self.background.shape}
        if len(shapes) != 1 or self.original.ndim != 2:
            raise InputError(
                "original, foreground and background must share one (channels, n) shape, got "
                f"{self.original.shape}, {self.foreground.shape}, {self.background.shape}"
            )
        if self.sr <= 0:
            raise InputError(f"sr={self.sr} must be a positive sample rate")

    @classmethod
    def from_arrays(
        cls,
        original: np.ndarray,
        foreground: np.ndarray,
        background: np.ndarray,
        sr: int,
        stem_sr: int | None = None,
    ) -> Stems:
        """Align stems to the original: resample from ``stem_sr``, remove codec delay,
        match channel count, trim or pad to the original's length."""
        original = np.atleast_2d(np.asarray(original, dtype=np.float32))
        fg = np.atleast_2d(np.asarray(foreground, dtype=np.float32))
        bg = np.atleast_2d(np.asarray(background, dtype=np.float32))
        if stem_sr and stem_sr != sr:
            fg, bg = resample(fg, stem_sr, sr), resample(bg, stem_sr, sr)
        channels, n = original.shape
        pad = max(fg.shape[1], bg.shape[1])
        total = _fit(fg, channels, pad) + _fit(bg, channels, pad)
        shift = _codec_delay(original, total)
        return cls(original, _fit(fg, channels, n, shift), _fit(bg, channels, n, shift), sr)

    @classmethod
    def from_files(
        cls,
        original: str | os.PathLike[str],
        foreground: str | os.PathLike[str],
        background: str | os.PathLike[str],
    ) -> Stems:
        """Decode three files and align the stems to the original (see :meth:`from_arrays`).

        Examples
        --------
        >>> # Stems.from_files("song.mp3", "out/foreground.flac", "out/background.flac")
        """
        x, sr = load(original)
        fg, fg_sr = load(foreground)
        bg, bg_sr = load(background)
        if bg_sr != fg_sr:
            bg = resample(bg, bg_sr, fg_sr)
        return cls.from_arrays(x, fg, bg, sr, stem_sr=fg_sr)

    @property
    def residual(self) -> np.ndarray:
        """``original − foreground − background``: what the stems fail to explain."""
        if self._residual is None:
            self._residual = self.original - self.foreground - self.background
        return self._residual

    @property
    def channels(self) -> int:
        return int(self.original.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.original.shape[1])

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.n_samples / self.sr

    def levels(self) -> dict[str, float]:
        """RMS level in dBFS of ``original``, ``foreground``, ``background``, ``residual``."""
        return {
            "original": rms_db(self.original),
            "foreground": rms_db(self.foreground),
            "background": rms_db(self.background),
            "residual": rms_db(self.residual),
        }

    def items(self) -> list[tuple[str, np.ndarray]]:
        """``[("original", …), ("foreground", …), ("background", …)]``."""
        return [
            ("original", self.original),
            ("foreground", self.foreground),
            ("background", self.background),
        ]
