"""Streams of samples cut into pieces that hold whole STFT frames, and sums over fixed windows.

A feature computed frame by frame on a long clip is the same whether the clip is analysed at
once or block by block, as long as every block sees whole frames on the same grid. The
:class:`FrameChunker` keeps that grid: frames are centred as in librosa (``center=True``,
zero padding of ``n_fft // 2`` at both ends), so a signal of ``n`` samples has
``1 + n // hop`` frames, and each segment it hands out holds whole frames (analyse it with
``center=False``), optionally with a few frames of context on either side.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["FrameChunker", "Segment", "WindowSums"]


class Segment:
    """Samples holding frames ``[first, first + frames)`` of the grid, of which
    ``keep`` frames starting at frame index ``skip`` (within the segment) are new.

    Examples
    --------
    >>> s = Segment(np.zeros(2048 + 3 * 512, np.float32), 0, 4, 0, 4)
    >>> s.frames, s.keep
    (4, 4)
    """

    __slots__ = ("first", "frames", "keep", "samples", "skip")

    def __init__(self, samples: np.ndarray, first: int, frames: int, skip: int, keep: int):
        self.samples = samples
        self.first = first
        self.frames = frames
        self.skip = skip
        self.keep = keep


class FrameChunker:
    """Cut a mono stream into segments of whole centred frames (librosa's ``center=True``).

    Parameters
    ----------
    n_fft, hop : int
        Frame length and step in samples.
    frames : int
        New frames per segment.
    context : int
        Frames of context before and after the new frames of each segment (for analyses
        whose frames look at their neighbours, e.g. a Viterbi decoding); none beyond the
        ends of the signal.

    Examples
    --------
    >>> chunker = FrameChunker(n_fft=8, hop=4, frames=2)
    >>> segs = chunker.push(np.arange(10, dtype=np.float32)) + chunker.finish()
    >>> [(s.first, s.frames) for s in segs], chunker.total_frames  # 1 + 10 // 4 frames
    ([(0, 2), (2, 1)], 3)
    >>> segs[0].samples[:6].tolist()  # centred: n_fft // 2 zeros first
    [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    """

    def __init__(self, n_fft: int, hop: int, frames: int = 256, context: int = 0) -> None:
        self.n_fft, self.hop, self.k, self.context = int(n_fft), int(hop), int(frames), context
        self._buf = np.zeros(self.n_fft // 2, np.float32)  # the centring zeros
        self._buf_first = 0  # grid frame at which _buf starts (frame f starts at f * hop)
        self._next = 0  # first frame not yet handed out as new
        self.samples = 0
        self.total_frames: int | None = None

    def _segment(self, stop: int, limit: int) -> Segment:
        """Frames ``[self._next, stop)`` as new, with context up to frame ``limit``."""
        first = max(self._next - self.context, 0)
        last = min(stop + self.context, limit)
        a = (first - self._buf_first) * self.hop
        b = (last - self._buf_first - 1) * self.hop + self.n_fft
        seg = Segment(self._buf[a:b], first, last - first, self._next - first, stop - self._next)
        self._next = stop
        # Keep what later segments need: their context and their frames.
        drop = max(self._next - self.context, 0) - self._buf_first
        if drop > 0:
            self._buf = self._buf[drop * self.hop :]
            self._buf_first += drop
        return seg

    def _available(self) -> int:
        """Frames wholly inside the buffer so far (grid index one past the last)."""
        return self._buf_first + max((len(self._buf) - self.n_fft) // self.hop + 1, 0)

    def push(self, x: np.ndarray) -> list[Segment]:
        """Add samples; return the segments that are now complete."""
        x = np.asarray(x, np.float32).ravel()
        self.samples += x.size
        self._buf = np.concatenate([self._buf, x])
        out = []
        while self._available() >= self._next + self.k + self.context:
            out.append(self._segment(self._next + self.k, self._available()))
        return out

    def finish(self) -> list[Segment]:
        """The last segments (zero padding at the end, as librosa's centring)."""
        total = 1 + self.samples // self.hop
        self.total_frames = total
        need = (total - self._buf_first - 1) * self.hop + self.n_fft
        if len(self._buf) < need:
            self._buf = np.concatenate([self._buf, np.zeros(need - len(self._buf), np.float32)])
        out = []
        while self._next < total:
            out.append(self._segment(min(self._next + self.k, total), total))
        return out


class WindowSums:
    """Sums of a per-sample quantity over consecutive windows, fed block by block.

    Parameters
    ----------
    edges : callable
        ``edges(ks)`` gives the first sample of windows ``ks`` (an int array, increasing);
        window ``k`` is ``[edges(k), edges(k + 1))``.

    Examples
    --------
    >>> w = WindowSums(lambda k: k * 3)
    >>> w.add(np.ones(4)).tolist(), w.add(np.ones(4)).tolist(), w.finish()
    ([3.0], [3.0], (2.0, 2))
    """

    def __init__(self, edges: Callable[[np.ndarray], np.ndarray]) -> None:
        self.edges = edges
        self.k = 0  # the open window
        self.pos = 0  # samples seen
        self._partial = 0.0
        self._partial_count = 0

    def add(self, values: np.ndarray) -> np.ndarray:
        """Account for the next samples; return the sums of the windows they complete."""
        values = np.asarray(values, np.float64)
        start, end = self.pos, self.pos + values.size
        self.pos = end
        # Windows that end inside this block: edges(k + 1 ..) <= end.
        count = 0
        while True:
            ks = np.arange(self.k + 1 + count, self.k + 1 + count + 64)
            e = self.edges(ks)
            count += int(np.searchsorted(e, end, side="right"))
            if e[-1] > end:
                break
        if count == 0:
            self._partial += float(values.sum())
            self._partial_count += values.size
            return np.zeros(0)
        cuts = self.edges(np.arange(self.k + 1, self.k + 1 + count)) - start
        cs = np.concatenate([[0.0], np.cumsum(values)])
        sums = np.diff(cs[np.r_[0, cuts]])
        sums[0] += self._partial
        self._partial = float(cs[-1] - cs[cuts[-1]])
        self._partial_count = int(end - start - cuts[-1])
        self.k += count
        return sums

    def finish(self) -> tuple[float, int]:
        """The sum over the open (last, incomplete) window and its number of samples."""
        return self._partial, self._partial_count
