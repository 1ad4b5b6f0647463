"""Integrated loudness (ITU-R BS.1770-4) of a stream, block by block.

pyloudnorm measures a whole array. Here its own K-weighting filters run over the stream with
their state carried from block to block, the filtered power is summed per 100 ms step (a
quarter of the 400 ms gating block, whose 75 % overlap makes every block four steps), and the
two gates (−70 LUFS absolute, −10 LU relative) run on those sums at the end. The block
boundaries, channel weights and gating follow pyloudnorm's code exactly, so the value equals
``pyloudnorm.Meter(sr).integrated_loudness(x)`` (tests check it to 1e-6 LU); memory is one
block plus 8 bytes per 100 ms of audio (288 kB for an hour).
"""

from __future__ import annotations

import numpy as np

from ._frames import WindowSums

__all__ = ["LoudnessMeter"]

_GATE_S = 0.4  # gating block (T_g)
_STEP = 0.25  # block step as a share of T_g (75 % overlap)
_ABSOLUTE_GATE = -70.0
_CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs


class LoudnessMeter:
    """Integrated loudness in LUFS of a ``(channels, n)`` stream.

    Parameters
    ----------
    sr : int
    channels : int
        Up to five take BS.1770's weights (L, R, C, Ls, Rs); further channels weigh 1.

    Examples
    --------
    >>> sr = 48000
    >>> t = np.arange(10 * sr) / sr
    >>> m = LoudnessMeter(sr, 1)
    >>> m.push((0.1 * np.sin(2 * np.pi * 1000 * t))[None])  # 1 kHz, -20 dBFS peak
    >>> round(m.result(), 2)  # pyloudnorm.Meter gives the same
    -23.05
    """

    def __init__(self, sr: int, channels: int) -> None:
        import pyloudnorm

        self.sr = sr
        # pyloudnorm's own K-weighting stages (high shelf, then high pass) for this rate. It
        # keeps them in Meter._filters and offers no stateful way to run them, which a stream
        # needs; reading them (not copying the constants) keeps the two meters identical.
        meter = pyloudnorm.Meter(sr, filter_class="K-weighting")
        self._stages = [(f.b, f.a) for f in meter._filters.values()]
        self._state = [np.zeros((channels, len(a) - 1)) for _, a in self._stages]
        gains = [(_CHANNEL_GAINS[i] if i < len(_CHANNEL_GAINS) else 1.0) for i in range(channels)]
        self._gains = np.asarray(gains)[:, None]
        rate = float(sr)
        # Sample where step k starts, computed as pyloudnorm computes block bounds.
        self._steps = WindowSums(lambda k: (_GATE_S * (k * _STEP) * rate).astype(np.int64))
        self._sums: list[np.ndarray] = []
        self.count = 0

    def push(self, block: np.ndarray) -> None:
        """Filter the next samples (state carried over) and sum their weighted power."""
        from scipy.signal import lfilter

        y = np.asarray(block, np.float64)
        if y.size == 0:
            return
        for i, (b, a) in enumerate(self._stages):
            y, self._state[i] = lfilter(b, a, y, axis=-1, zi=self._state[i])
        self.count += y.shape[1]
        done = self._steps.add((self._gains * y * y).sum(axis=0))
        if done.size:
            self._sums.append(done)

    def result(self) -> float:
        """Integrated loudness in LUFS; −inf when no block passes the absolute gate (silence),
        NaN for less than 400 ms of audio (BS.1770 needs one gating block)."""
        duration = self.count / self.sr
        if duration < _GATE_S:
            return float("nan")
        rest, _ = self._steps.finish()
        steps = np.concatenate([*self._sums, [rest]])
        n_blocks = int(np.round((duration - _GATE_S) / (_GATE_S * _STEP))) + 1
        steps = np.pad(steps, (0, max(n_blocks + 3 - steps.size, 0)))
        z = (
            steps[:n_blocks]
            + steps[1 : n_blocks + 1]
            + steps[2 : n_blocks + 2]
            + steps[3 : n_blocks + 3]
        ) / (_GATE_S * self.sr)
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10.0 * np.log10(z)
        above = loudness >= _ABSOLUTE_GATE
        if not above.any():
            return float("-inf")
        relative = -0.691 + 10.0 * np.log10(z[above].mean()) - 10.0
        gated = (loudness > relative) & (loudness > _ABSOLUTE_GATE)
        if not gated.any():
            return float("-inf")
        return float(-0.691 + 10.0 * np.log10(z[gated].mean()))
