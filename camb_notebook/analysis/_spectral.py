"""Spectral centroid and bandwidth of a mono stream (librosa, frame by frame, in blocks)."""

from __future__ import annotations

import numpy as np

from ._frames import FrameChunker

__all__ = ["SpectralMeter"]

N_FFT = 2048
HOP = 512


class SpectralMeter:
    """Centroid and bandwidth in Hz of a mono stream, on librosa's default STFT grid.

    librosa gives one centroid ``c_t`` and one bandwidth ``b_t`` per frame (``p = 2``); the
    clip's values weight each frame by its magnitude ``w_t = Σ_f |X_ft|``::

        centroid  = Σ w_t c_t / Σ w_t          bandwidth = sqrt(Σ w_t b_t² / Σ w_t)

    so silent frames (whose centroid librosa reports as 0 Hz) do not pull the value down, and
    the result does not depend on how the stream was cut (frames are whole and on one grid:
    the sums equal those over ``librosa.stft`` of the whole signal).

    Examples
    --------
    >>> sr = 22050
    >>> m = SpectralMeter(sr)
    >>> m.push(np.sin(2 * np.pi * 1000 * np.arange(sr) / sr).astype(np.float32))
    >>> round(m.result()["centroid_hz"], -1)  # a tone's, a little above it: leakage
    1030.0
    """

    def __init__(self, sr: int, n_fft: int = N_FFT, hop: int = HOP) -> None:
        self.sr, self.n_fft, self.hop = sr, n_fft, hop
        self._chunker = FrameChunker(n_fft, hop, frames=256)
        self._w = self._wc = self._wb2 = 0.0

    def _add(self, samples: np.ndarray) -> None:
        import librosa

        S = np.abs(librosa.stft(samples, n_fft=self.n_fft, hop_length=self.hop, center=False))
        kw = {"sr": self.sr, "n_fft": self.n_fft, "hop_length": self.hop}
        c = librosa.feature.spectral_centroid(S=S, **kw)
        b = librosa.feature.spectral_bandwidth(S=S, centroid=c, **kw)[0]
        w = S.sum(axis=0, dtype=np.float64)
        self._w += float(w.sum())
        self._wc += float(np.dot(w, c[0]))
        self._wb2 += float(np.dot(w, b.astype(np.float64) ** 2))

    def push(self, mono: np.ndarray) -> None:
        """Account for the next samples."""
        for seg in self._chunker.push(mono):
            self._add(seg.samples)

    def result(self) -> dict[str, float]:
        """``centroid_hz`` and ``bandwidth_hz``; NaN for a silent stream."""
        for seg in self._chunker.finish():
            self._add(seg.samples)
        if self._w <= 0:
            return {"centroid_hz": float("nan"), "bandwidth_hz": float("nan")}
        return {
            "centroid_hz": self._wc / self._w,
            "bandwidth_hz": float(np.sqrt(self._wb2 / self._w)),
        }
