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

__all__ = ["FrameSource", "OverlapAddStream", "hann", "n_frames", "stft_block", "window_envelope"]


#: Frames per FFT call in :func:`stft_block`.
_FRAMES_PER_FFT = 64


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
    count = stop - start
    out = np.empty((ch, half + 1, count), np.complex64)
    empty_from = n_frames(n, hop)  # frames past the signal's last are empty
    # A few frames per FFT call: the windowed frames and their spectra exist for those only
    # (for a whole 512-frame segment they were ~4x the output, the engine worker's peak).
    # Each frame's FFT does not depend on the others, so the numbers are the same.
    for f0 in range(start, stop, _FRAMES_PER_FFT):
        f1 = min(f0 + _FRAMES_PER_FFT, stop)
        lo = f0 * hop - half
        hi = (f1 - 1) * hop + half
        seg = np.zeros((ch, hi - lo), dtype=np.float32)
        a, b = max(lo, 0), min(hi, n)
        if b > a:
            seg[:, a - lo : b - lo] = x[:, a:b]
        s0, s1 = seg.strides
        frames = np.lib.stride_tricks.as_strided(seg, (ch, f1 - f0, n_fft), (s0, hop * s1, s1))
        spec = scipy.fft.rfft(frames * window, axis=-1)
        spec[:, max(0, empty_from - f0) :] = 0
        out[:, :, f0 - start : f1 - start] = spec.transpose(0, 2, 1)
    return out


class FrameSource:
    """The recent samples of a stream, to cut STFT frames from (see :func:`stft_block`).

    Frames are centred as in :func:`stft_block`; a frame may be asked for once the samples it
    covers have arrived, or once the stream has ended (then samples past the end are zeros
    and frames past the last one are empty). :meth:`release` drops the samples that frames
    before a given one need, so the memory held is the look-ahead, not the stream.

    Examples
    --------
    >>> src = FrameSource(1, 4096, 1024)
    >>> src.append(np.ones((1, 10000), np.float32)); src.end()
    >>> src.frames(3, 5, hann(4096)).shape, src.total_frames
    ((1, 2049, 2), 10)
    """

    def __init__(self, channels: int, n_fft: int, hop: int) -> None:
        if n_fft % (2 * hop):
            raise ValueError(f"n_fft={n_fft} must be a multiple of 2 * hop={2 * hop}")
        self.channels = channels
        self.n_fft = n_fft
        self.hop = hop
        self.received = 0  # samples appended so far
        self.ended = False
        self._start = 0  # sample index of the buffer's first column (a multiple of hop)
        self._buf = np.zeros((channels, 0), np.float32)
        self._used = 0

    @property
    def total_frames(self) -> int | None:
        """Frames of the whole stream, once it has ended."""
        return n_frames(self.received, self.hop) if self.ended else None

    def append(self, block: np.ndarray) -> None:
        """Add ``(channels, k)`` samples at the end."""
        k = block.shape[1]
        if self._used + k > self._buf.shape[1]:
            # by a quarter: the buffer settles at the look-ahead held (tens of seconds for the
            # hybrid), and doubling left up to as much again allocated for nothing
            grown = np.empty(
                (self.channels, max(self._used + k, self._buf.shape[1] * 5 // 4)), np.float32
            )
            grown[:, : self._used] = self._buf[:, : self._used]
            self._buf = grown
        self._buf[:, self._used : self._used + k] = block
        self._used += k
        self.received += k

    def end(self) -> None:
        """Mark the end of the stream."""
        self.ended = True

    def available(self, stop: int) -> bool:
        """True when frames up to ``stop - 1`` can be computed (and will never change)."""
        return self.ended or self.received >= (stop - 1) * self.hop + self.n_fft // 2

    def frames(self, start: int, stop: int, window: np.ndarray) -> np.ndarray:
        """STFT of frames ``start .. stop-1`` (see :func:`stft_block`), complex64."""
        first = self._start // self.hop
        if start * self.hop - self.n_fft // 2 < self._start and self._start > 0:
            raise ValueError(f"frame {start} needs samples released already")
        if not self.available(stop):
            raise ValueError(f"frame {stop - 1} needs samples that have not arrived")
        x = self._buf[:, : self._used]
        return stft_block(x, start - first, stop - first, self.n_fft, self.hop, window)

    def release(self, frame: int) -> None:
        """Frames before ``frame`` will not be asked for again: drop the samples only they use."""
        keep_from = max(0, frame * self.hop - self.n_fft // 2)
        drop = min(keep_from - self._start, self._used)
        if drop <= 0:
            return
        drop -= drop % self.hop
        rest = self._used - drop
        self._buf[:, :rest] = self._buf[:, drop : self._used]
        self._used = rest
        self._start += drop


def window_envelope(
    a: int, b: int, n_fft: int, hop: int, window: np.ndarray, frames: int
) -> np.ndarray:
    """Sum of squared windows over samples ``a .. b-1`` of the frames ``0 .. frames-1``.

    Examples
    --------
    >>> env = window_envelope(4096, 4100, 4096, 1024, hann(4096), 100)
    >>> env.round(4).tolist()
    [1.5, 1.5, 1.5, 1.5]
    """
    half = n_fft // 2
    idx = np.arange(a, b)
    env = np.zeros(b - a, dtype=np.float64)
    w2 = window.astype(np.float64) ** 2
    first = max(0, (a - half) // hop)
    last = min(frames - 1, (b - 1 + half) // hop)
    for f in range(first, last + 1):
        pos = idx - (f * hop - half)
        ok = (pos >= 0) & (pos < n_fft)
        env[ok] += w2[pos[ok]]
    return env.astype(np.float32)


class OverlapAddStream:
    """Inverse STFT of a stream of frame blocks, returning samples as soon as they are final.

    Frames are added in order, block by block; a sample is final once every frame that
    covers it was added, and is then divided by the sum of squared windows of those frames
    (which makes ``istft(stft(x)) == x``). The memory held is one block plus one frame.

    Parameters
    ----------
    channels : int
    n_fft, hop : int
    window : np.ndarray [shape=(n_fft,)]
    stems : int
        Spectrograms added together per block (e.g. foreground and background).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(2, 10000)).astype(np.float32)
    >>> w = hann(4096)
    >>> ola = OverlapAddStream(2, 4096, 1024, w)
    >>> total = n_frames(x.shape[1], 1024)
    >>> parts = [ola.add(a, [stft_block(x, a, min(a + 4, total), 4096, 1024, w)])[0]
    ...          for a in range(0, total, 4)]
    >>> y = np.concatenate(parts + ola.finish(x.shape[1]), axis=1)
    >>> y.shape, bool(np.allclose(y, x, atol=1e-5))
    ((2, 10000), True)
    """

    def __init__(
        self, channels: int, n_fft: int, hop: int, window: np.ndarray, stems: int = 1
    ) -> None:
        self.channels = channels
        self.n_fft = n_fft
        self.hop = hop
        self.window = window.astype(np.float32)
        self.next_frame = 0  # the frame the next block must start with
        self.emitted = 0  # samples returned so far
        self._bufs = [np.zeros((channels, 0), np.float32) for _ in range(stems)]
        self._used = 0  # samples of the buffers touched so far (from `emitted` on)
        # Away from both ends every covering frame exists and the envelope has period hop.
        self._period = window_envelope(n_fft, n_fft + hop, n_fft, hop, self.window, 1 << 62)

    def add(self, start: int, specs: list[np.ndarray]) -> list[np.ndarray]:
        """Overlap-add frames ``start ..`` of each stem; return the samples now final, per stem.

        ``specs[i]`` has shape ``(channels, n_fft // 2 + 1, count)``; ``start`` must be the
        frame after the previous block's last.
        """
        if start != self.next_frame:
            raise ValueError(
                f"frames must be added in order: expected {self.next_frame}, got {start}"
            )
        half = self.n_fft // 2
        count = specs[0].shape[2]
        if count == 0:
            return self._take(0)
        lo = start * self.hop - half
        hi = (start + count - 1) * self.hop + half
        self._reserve(hi - self.emitted)
        a = max(lo, 0)
        r = self.n_fft // self.hop
        for spec, buf in zip(specs, self._bufs, strict=True):
            frames = scipy.fft.irfft(spec.transpose(0, 2, 1), n=self.n_fft, axis=-1)
            frames = frames.astype(np.float32, copy=False)
            frames *= self.window
            acc = np.zeros((self.channels, hi - lo), dtype=np.float32)
            for k in range(r):
                # Frames k, k+r, k+2r, ... tile without overlap: add them as one slab.
                sub = frames[:, k::r]
                if sub.shape[1] == 0:
                    continue
                off = k * self.hop
                slab = sub.reshape(self.channels, -1)
                acc[:, off : off + slab.shape[1]] += slab
            buf[:, a - self.emitted : hi - self.emitted] += acc[:, a - lo :]
        self.next_frame = start + count
        return self._take(max(0, self.next_frame * self.hop - half - self.emitted))

    def finish(self, n: int) -> list[np.ndarray]:
        """Return the remaining samples of a signal of ``n`` samples in total, per stem."""
        self._reserve(n - self.emitted)
        return self._take(max(0, n - self.emitted), n)

    def _reserve(self, size: int) -> None:
        cap = self._bufs[0].shape[1]
        if size > cap:
            cap = max(size, 2 * cap)
            for i, buf in enumerate(self._bufs):
                grown = np.zeros((self.channels, cap), np.float32)
                grown[:, : self._used] = buf[:, : self._used]
                self._bufs[i] = grown
        self._used = max(self._used, size)

    def _take(self, k: int, n: int | None = None) -> list[np.ndarray]:
        """Remove the first ``k`` buffered samples, divided by the window envelope.

        ``n`` is the signal's length once known (at the end): then the last frames are known.
        """
        a, b = self.emitted, self.emitted + k
        env = np.empty(k, np.float32)
        edge, hop = self.n_fft, self.hop
        # Near the ends some covering frames do not exist: sum the windows sample by sample.
        # In between, the periodic envelope gives the same numbers at a fraction of the cost.
        frames = self.next_frame if n is None else n_frames(n, hop)
        tail = b if n is None else max(a, min(b, n - edge))
        head = min(max(a, edge), tail)
        if head > a:
            env[: head - a] = window_envelope(a, head, edge, hop, self.window, frames)
        if tail > head:
            reps = (tail - head) // hop + 2
            env[head - a : tail - a] = np.tile(self._period, reps)[(head - edge) % hop :][
                : tail - head
            ]
        if b > tail:
            env[tail - a :] = window_envelope(tail, b, edge, hop, self.window, frames)
        np.maximum(env, 1e-10, out=env)
        out = []
        rest = self._used - k
        for buf in self._bufs:
            out.append(buf[:, :k] / env)
            if k:
                buf[:, :rest] = buf[:, k : self._used]
                buf[:, rest : self._used] = 0.0
        self._used = rest
        self.emitted = b
        return out
