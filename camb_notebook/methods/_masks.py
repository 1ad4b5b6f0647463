"""Soft masks on an STFT grid, for teaching and for comparing methods with the oracle."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._stft import hann, n_frames, stft_block

__all__ = ["SoftMasks", "ideal_ratio_mask"]


@dataclass(frozen=True)
class SoftMasks:
    """Foreground and background masks of one clip, values in [0, 1].

    Attributes
    ----------
    foreground, background : np.ndarray [shape=(channels, bins, frames)], float32
        Masks on the STFT grid below (bins ``0 .. n_fft // 2``, centred frames).
    sr : int
        Sample rate of that grid (a method may work at its own rate, e.g. 44100 Hz).
    n_fft, hop : int
        STFT size and hop, in samples at ``sr``.
    method : str
        Which method made them (``"spleeter"``, ``"repet"``, ``"ideal"``).

    Examples
    --------
    >>> m = SoftMasks(np.ones((1, 3, 2), np.float32), np.zeros((1, 3, 2), np.float32),
    ...               44100, 4, 2, "ideal")
    >>> m.freqs.tolist(), m.times.round(6).tolist()
    ([0.0, 11025.0, 22050.0], [0.0, 4.5e-05])
    """

    foreground: np.ndarray
    background: np.ndarray
    sr: int
    n_fft: int
    hop: int
    method: str

    @property
    def freqs(self) -> np.ndarray:
        """Centre frequency of each bin, Hz."""
        return np.arange(self.foreground.shape[1]) * (self.sr / self.n_fft)

    @property
    def times(self) -> np.ndarray:
        """Centre time of each frame, seconds."""
        return np.arange(self.foreground.shape[2]) * (self.hop / self.sr)


def ideal_ratio_mask(
    foreground: np.ndarray,
    background: np.ndarray,
    sr: int,
    n_fft: int = 4096,
    hop: int = 1024,
    power: float = 2.0,
) -> SoftMasks:
    """The ideal ratio mask ``|F|^p / (|F|^p + |B|^p)`` from the true stems (an oracle).

    Parameters
    ----------
    foreground, background : np.ndarray [shape=(channels, n)]
        The true stems.
    sr, n_fft, hop : int
        STFT grid; the default matches the ``spleeter`` method at 44.1 kHz.
    power : float
        2 gives the Wiener-like power ratio, 1 the magnitude ratio.

    Examples
    --------
    >>> s = np.random.default_rng(0).normal(size=(2, 8192)).astype(np.float32)
    >>> m = ideal_ratio_mask(s, 0 * s, 44100)
    >>> float(m.foreground.min())
    1.0
    """
    window = hann(n_fft)
    total = n_frames(foreground.shape[1], hop)
    f = np.abs(stft_block(np.asarray(foreground, np.float32), 0, total, n_fft, hop, window))
    b = np.abs(stft_block(np.asarray(background, np.float32), 0, total, n_fft, hop, window))
    f **= power
    b **= power
    denom = f + b
    tiny = np.float32(1e-20)
    fg = np.where(denom > tiny, f / np.maximum(denom, tiny), 0.5).astype(np.float32)
    return SoftMasks(fg, (1.0 - fg).astype(np.float32), sr, n_fft, hop, "ideal")
