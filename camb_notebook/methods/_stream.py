"""Plumbing shared by the streaming separators: sample queues, streaming resampling, drivers.

Arrays are float32 ``(channels, n)``. Nothing here holds more than the blocks in flight.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np

from ._base import (
    Blocks,
    Method,
    ProgressCallback,
    StreamingMethod,
    check_audio,
    check_block,
    check_rate,
)

__all__ = ["Progress", "Resampler", "SampleQueue", "separate_blocks", "separate_by_stream"]

#: Samples per block when an in-memory clip is fed to a separator (~3 s at 44.1 kHz).
ARRAY_BLOCK = 1 << 17


class SampleQueue:
    """A first-in first-out queue of samples: push blocks of any length, pop any count.

    Examples
    --------
    >>> q = SampleQueue(1)
    >>> q.push(np.arange(3, dtype=np.float32)[None]); q.push(np.ones((1, 2), np.float32))
    >>> q.pop(4).tolist(), len(q)
    ([[0.0, 1.0, 2.0, 1.0]], 1)
    """

    def __init__(self, channels: int) -> None:
        self.channels = channels
        self._blocks: deque[np.ndarray] = deque()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, block: np.ndarray) -> None:
        """Append a ``(channels, k)`` block (kept by reference: do not modify it afterwards)."""
        if block.shape[1]:
            self._blocks.append(block)
            self._size += block.shape[1]

    def pop(self, k: int) -> np.ndarray:
        """Remove and return the first ``k`` samples (``k <= len(self)``)."""
        if k > self._size:
            raise ValueError(f"cannot pop {k} samples, {self._size} queued")
        if self._blocks and self._blocks[0].shape[1] == k:
            self._size -= k
            return self._blocks.popleft()
        out = np.empty((self.channels, k), np.float32)
        pos = 0
        while pos < k:
            head = self._blocks[0]
            take = min(k - pos, head.shape[1])
            out[:, pos : pos + take] = head[:, :take]
            if take == head.shape[1]:
                self._blocks.popleft()
            else:
                self._blocks[0] = head[:, take:]
            pos += take
        self._size -= k
        return out


class Resampler:
    """Streaming soxr resampling (high quality) of ``(channels, n)`` blocks.

    Chunked output equals ``audio.resample`` of the whole signal, sample for sample; the
    output lags the input by the filter's delay and :meth:`flush` returns the rest.

    Examples
    --------
    >>> r = Resampler(22050, 44100, 2)
    >>> parts = [r(np.zeros((2, 1000), np.float32)) for _ in range(3)] + [r.flush()]
    >>> sum(p.shape[1] for p in parts)
    6000
    """

    def __init__(self, sr_in: int, sr_out: int, channels: int) -> None:
        import soxr

        self.channels = channels
        self._stream = soxr.ResampleStream(sr_in, sr_out, channels, dtype="float32", quality="HQ")

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        """Resample one block; with ``last=True`` the stream ends and its tail is returned too."""
        out = self._stream.resample_chunk(np.ascontiguousarray(block.T), last=last)
        return np.ascontiguousarray(out.T, dtype=np.float32)

    def flush(self) -> np.ndarray:
        """End the stream and return what the filter still holds."""
        return self(np.zeros((self.channels, 0), np.float32), last=True)


class Progress:
    """Reports a separator's progress: monotonic fractions below 1.0, then 1.0 at :meth:`end`.

    Examples
    --------
    >>> seen = []
    >>> p = Progress(seen.append, total=4)
    >>> p(1); p(1); p(4); p.end()
    >>> seen
    [0.25, 0.999, 1.0]
    """

    def __init__(self, callback: ProgressCallback | None, total: float | None) -> None:
        self._callback = callback if total else None
        self._total = float(total or 0)
        self._last = -1.0

    def __call__(self, done: float) -> None:
        """``done`` units of ``total`` are finished."""
        if self._callback is None:
            return
        fraction = min(done / self._total, 0.999)
        if fraction > self._last:
            self._last = fraction
            self._callback(fraction)

    def end(self) -> None:
        """Everything is finished: report 1.0 (once)."""
        if self._callback is not None and self._last < 1.0:
            self._last = 1.0
            self._callback(1.0)


def separate_by_stream(
    method: StreamingMethod,
    audio: np.ndarray,
    sr: int,
    progress: ProgressCallback | None = None,
    block: int = ARRAY_BLOCK,
) -> tuple[np.ndarray, np.ndarray]:
    """Run an in-memory clip through ``method.stream`` and gather the whole stems.

    ``progress`` gets the fraction of the work done (monotonic, last call exactly 1.0).
    """
    x = check_audio(audio, sr)
    n = x.shape[1]
    separator = method.stream(sr, x.shape[0], total=n, progress=progress)
    fg = np.empty(x.shape, np.float32)
    bg = np.empty(x.shape, np.float32)
    done = 0

    def gather(outs: Blocks) -> None:
        nonlocal done
        for f, b in outs:
            k = f.shape[1]
            fg[:, done : done + k] = f
            bg[:, done : done + k] = b
            done += k

    for a in range(0, n, block):
        gather(separator.push(x[:, a : a + block]))
    gather(separator.finish())
    if done != n:  # a separator bug, never the caller's
        raise RuntimeError(f"{type(separator).__name__} returned {done} samples for {n}")
    if progress is not None:
        progress(1.0)
    return fg, bg


def separate_blocks(
    method: Method,
    blocks: Iterable[np.ndarray],
    sr: int,
    channels: int,
    progress: ProgressCallback | None = None,
    total: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Separate a stream of blocks with any method, yielding ``(foreground, background)`` blocks.

    A method with ``stream`` runs in bounded memory; any other method gets the whole clip
    joined into one array (memory grows with the clip, as that method needs).

    Parameters
    ----------
    method : Method
    blocks : iterable of np.ndarray [shape=(channels, n)]
    sr, channels : int
    progress : callable, optional
        Fraction of the work done (monotonic; the last call, after the last block, is 1.0).
        Needs ``total`` for a streaming method.
    total : int, optional
        Number of samples the blocks hold, when known (for progress).

    Examples
    --------
    >>> from camb_notebook.methods import get_method
    >>> blocks = (np.zeros((2, 10_000), np.float32) for _ in range(3))
    >>> out = list(separate_blocks(get_method("repet"), blocks, 22050, 2))
    >>> sum(f.shape[1] for f, _ in out)
    30000
    """
    sr = check_rate(sr)
    if not isinstance(method, StreamingMethod):
        whole = [check_block(b, channels) for b in blocks]
        audio = np.concatenate(whole, axis=1) if whole else np.zeros((channels, 0), np.float32)
        del whole
        yield method.separate(audio, sr, progress=progress)
        return
    separator = method.stream(sr, channels, total=total, progress=progress)
    for block in blocks:
        yield from separator.push(block)
    yield from separator.finish()
    if progress is not None:
        progress(1.0)
