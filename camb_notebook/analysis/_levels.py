"""Sample peak, RMS level and the share of silence of a multichannel stream, block by block."""

from __future__ import annotations

import numpy as np

from ._frames import WindowSums

__all__ = ["SILENCE_THRESHOLD_DB", "SILENCE_WINDOW_S", "LevelMeter", "db"]

#: Floor of every level in dBFS (as :func:`camb_notebook.audio.rms_db`): "silent".
FLOOR_DB = -120.0
#: A window whose RMS level lies below this is silent.
SILENCE_THRESHOLD_DB = -60.0
#: Length of the windows the share of silence is counted in, seconds.
SILENCE_WINDOW_S = 0.1


def db(power: float) -> float:
    """``10·log10(power)`` floored at -120 dB.

    Examples
    --------
    >>> db(1.0), db(0.0)
    (0.0, -120.0)
    """
    return max(float(10.0 * np.log10(power)), FLOOR_DB) if power > 0 else FLOOR_DB


class LevelMeter:
    """Peak, RMS and silence of a ``(channels, n)`` stream.

    Examples
    --------
    >>> m = LevelMeter(sr=1000, channels=1)
    >>> m.push(np.r_[np.full(500, 0.5), np.zeros(500)][None].astype(np.float32))
    >>> {k: round(v, 2) for k, v in m.result().items()}
    {'peak_dbfs': -6.02, 'rms_dbfs': -9.03, 'silence_fraction': 0.5}
    """

    def __init__(self, sr: int, channels: int) -> None:
        self.channels = channels
        self.peak = 0.0
        self.energy = 0.0
        self.count = 0
        self.silent = 0  # samples in silent windows
        self._threshold = 10.0 ** (SILENCE_THRESHOLD_DB / 10.0)
        step = sr * SILENCE_WINDOW_S
        self._windows = WindowSums(lambda k: np.floor(k * step).astype(np.int64))
        self._lengths = lambda k: (np.floor((k + 1) * step) - np.floor(k * step)).astype(np.int64)

    def push(self, block: np.ndarray) -> None:
        """Account for the next samples of every channel."""
        x = np.asarray(block, np.float64)
        if x.size == 0:
            return
        self.peak = max(self.peak, float(np.max(np.abs(x))))
        per_sample = np.einsum("cn,cn->n", x, x)
        self.energy += float(per_sample.sum())
        self.count += x.shape[1]
        k0 = self._windows.k
        sums = self._windows.add(per_sample)
        if sums.size:
            n = self._lengths(np.arange(k0, k0 + sums.size))
            quiet = sums < self._threshold * n * self.channels
            self.silent += int(n[quiet].sum())

    def result(self) -> dict[str, float]:
        """``peak_dbfs``, ``rms_dbfs`` and ``silence_fraction`` of everything pushed."""
        rest, n = self._windows.finish()
        silent = self.silent + (n if n and rest < self._threshold * n * self.channels else 0)
        samples = self.count * self.channels
        return {
            "peak_dbfs": db(self.peak**2),
            "rms_dbfs": db(self.energy / samples) if samples else FLOOR_DB,
            "silence_fraction": silent / self.count if self.count else float("nan"),
        }
