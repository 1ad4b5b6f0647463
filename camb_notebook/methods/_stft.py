"""Block-wise STFT and inverse STFT with the same conventions as ``torch.stft(center=True)``.

Frames are centred: frame ``f`` covers samples ``[f*hop - n_fft/2, f*hop + n_fft/2)`` of the
signal extended with zeros, so a signal of ``n`` samples has ``1 + n // hop`` frames. The
window is the periodic Hann window; the inverse divides the overlap-added frames by the sum of
squared windows that actually cover each sample, which makes ``istft(stft(x)) == x``.

Both directions work on any range of frames, so long signals are processed in blocks and the
memory held is one block of frames, not the whole spectrogram.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

__all__ = ["OverlapAdd", "hann", "n_frames", "stft_block"]


def hann(n: int) -> np.ndarray:
    """Periodic Hann window of length ``n`` (``torch.hann_window(n)``), float32.

    Examples
    --------
    >>> hann(4).tolist()
    [0.0, 0.5, 1.0, 0.5]
    """
    k = np.arange(n, dtype=np.float64)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * k / n)).astype(np.float32)


def n_frames(n_samples: int, hop: int) -> int:
    """Number of centred frames of a signal of ``n_samples`` samples (``1 + n // hop``)."""
    return 1 + n_samples // hop


def stft_block(
    x: np.ndarray, start: int, stop: int, n_fft: int, hop: int, window: np.ndarray
) -> np.ndarray:
    """STFT of frames ``start .. stop-1`` of ``x``.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, n)], float32
    start, stop : int
        Frame range; frames past the end of the signal are all zeros.
    n_fft, hop : int
    window : np.ndarray [shape=(n_fft,)]

    Returns
    -------
    np.ndarray [shape=(channels, n_fft // 2 + 1, stop - start)], complex64

    Examples
    --------
    >>> x = np.ones((1, 8192), np.float32)
    >>> stft_block(x, 0, 3, 4096, 1024, hann(4096)).shape
    (1, 2049, 3)
    """
    ch, n = x.shape
    half = n_fft // 2
    lo = start * hop - half
    hi = (stop - 1) * hop + half
    seg = np.zeros((ch, hi - lo), dtype=np.float32)
    a, b = max(lo, 0), min(hi, n)
    if b > a:
        seg[:, a - lo : b - lo] = x[:, a:b]
    count = stop - start
    s0, s1 = seg.strides
    frames = np.lib.stride_tricks.as_strided(seg, (ch, count, n_fft), (s0, hop * s1, s1))
    spec = scipy.fft.rfft(frames * window, axis=-1)
    spec[:, max(0, n_frames(n, hop) - start) :] = 0  # frames past the signal's last are empty
    return np.ascontiguousarray(spec.transpose(0, 2, 1), dtype=np.complex64)


class OverlapAdd:
    """Accumulates inverse-STFT frames into signals of a fixed length.

    Parameters
    ----------
    outputs : list of np.ndarray [shape=(channels, n)], float32
        Zero-initialised arrays that receive the signals (one per stem), written in place.
    n_fft, hop : int
    window : np.ndarray

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(2, 10000)).astype(np.float32)
    >>> w = hann(4096)
    >>> out = np.zeros_like(x)
    >>> ola = OverlapAdd([out], 4096, 1024, w)
    >>> total = n_frames(x.shape[1], 1024)
    >>> ola.add(0, [stft_block(x, 0, total, 4096, 1024, w)])
    >>> ola.finish()
    >>> bool(np.allclose(out, x, atol=1e-5))
    True
    """

    def __init__(self, outputs: list[np.ndarray], n_fft: int, hop: int, window: np.ndarray) -> None:
        self.outputs = outputs
        self.n_fft = n_fft
        self.hop = hop
        self.window = window.astype(np.float32)
        self.n = outputs[0].shape[1]
        self.total_frames = n_frames(self.n, hop)

    def add(self, start: int, specs: list[np.ndarray]) -> None:
        """Overlap-add frames ``start ..`` of each spectrogram into its output.

        ``specs[i]`` has shape ``(channels, bins, count)``; bins past ``n_fft // 2 + 1`` are not
        allowed and missing bins are zeros.
        """
        half = self.n_fft // 2
        count = specs[0].shape[2]
        lo = start * self.hop - half
        hi = (start + count - 1) * self.hop + half
        a, b = max(lo, 0), min(hi, self.n)
        if b <= a:
            return
        for spec, out in zip(specs, self.outputs, strict=True):
            frames = scipy.fft.irfft(spec.transpose(0, 2, 1), n=self.n_fft, axis=-1)
            frames = frames.astype(np.float32, copy=False)
            frames *= self.window
            acc = np.zeros((out.shape[0], hi - lo), dtype=np.float32)
            r = self.n_fft // self.hop
            for k in range(r):
                # Frames k, k+r, k+2r, ... tile without overlap: add them as one slab.
                sub = frames[:, k::r]
                if sub.shape[1] == 0:
                    continue
                off = k * self.hop
                slab = sub.reshape(out.shape[0], -1)
                acc[:, off : off + slab.shape[1]] += slab
            out[:, a:b] += acc[:, a - lo : b - lo]

    def envelope(self, a: int, b: int) -> np.ndarray:
        """Sum of squared windows of all existing frames over samples ``a .. b-1``."""
        half = self.n_fft // 2
        idx = np.arange(a, b)
        env = np.zeros(b - a, dtype=np.float64)
        w2 = self.window.astype(np.float64) ** 2
        first = max(0, (a - half) // self.hop)
        last = min(self.total_frames - 1, (b - 1 + half) // self.hop)
        for f in range(first, last + 1):
            pos = idx - (f * self.hop - half)
            ok = (pos >= 0) & (pos < self.n_fft)
            env[ok] += w2[pos[ok]]
        return env.astype(np.float32)

    def finish(self) -> None:
        """Divide the outputs by the window envelope (call once, after every frame was added)."""
        n, edge, hop = self.n, self.n_fft, self.hop
        # Away from both ends every covering frame exists and the envelope has period hop.
        period = self.envelope(edge, edge + hop) if n > 2 * edge + hop else None
        block = 256 * hop
        a = 0
        while a < n:
            if period is not None and edge <= a < n - edge:
                b = min(a + block, n - edge)
                env = np.tile(period, (b - a) // hop + 2)[(a - edge) % hop :][: b - a]
            else:
                b = min(a + hop, n) if a < edge else n
                b = min(b, edge) if a < edge else b
                env = self.envelope(a, b)
            for out in self.outputs:
                out[:, a:b] /= np.maximum(env, 1e-10)
            a = b
