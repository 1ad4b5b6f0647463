"""Spleeter on a stream of blocks: segments with overlap, the Wiener step per segment.

The pipeline of :class:`SpleeterStream`, per pushed block::

    block (sr) -> resample to 44.1 kHz -> channel pairs -> 512-frame segments
      -> the two U-Nets (on a thread, one segment ahead) -> cross-fade, ratio masks, Wiener
      -> overlap-add -> resample back to sr -> (foreground, background) blocks

A segment is scheduled once the samples it covers have arrived and it is known whether the
next segment is a regular one (so the last segment can be aligned to the end of the clip
exactly as the whole-clip computation does); its output samples are returned as soon as every
frame covering them was added. The memory held is about two segments (~24 s of audio) per
channel pair, whatever the length of the stream.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import NamedTuple, Protocol

import numpy as np

from ._base import Blocks, ProgressCallback, check_block, check_channels, check_rate
from ._stft import FrameSource, OverlapAddStream, hann, n_frames
from ._stream import Progress, Resampler, SampleQueue

__all__ = ["SpleeterStream", "channel_pairs"]

SR = 44100
N_FFT = 4096
HOP = 1024
SEGMENT = 512  # frames per network input


def channel_pairs(channels: int) -> list[tuple[int, ...]]:
    """How channels are fed to the stereo network: in pairs, a lone channel as dual mono.

    Examples
    --------
    >>> channel_pairs(1), channel_pairs(3)
    ([(0,)], [(0, 1), (2,)])
    """
    if channels == 1:
        return [(0,)]
    pairs: list[tuple[int, ...]] = [(c, c + 1) for c in range(0, channels - 1, 2)]
    if channels % 2:
        pairs.append((channels - 1,))
    return pairs


class _Segment(NamedTuple):
    start: int  # first frame
    next: int | None  # first frame of the next segment (None: this is the last)
    end: int  # frames start .. end-1 are final after this segment
    mix: np.ndarray  # mixture STFT of frames start .. start + SEGMENT - 1
    estimates: Future  # the networks' source magnitudes for `mix`


class _Config(Protocol):
    overlap: int
    highband: str


class SegmentModel(Protocol):
    """What the stream needs of a Spleeter method (:class:`SpleeterMethod` is one): its config
    and its per-segment steps. Declared here so the stream does not import the method."""

    @property
    def config(self) -> _Config: ...

    def _submit(self, mix: np.ndarray) -> Future: ...

    def _fg_mask(self, mix: np.ndarray, v: list[np.ndarray]) -> np.ndarray: ...

    def _stems(self, mix: np.ndarray, v: list[np.ndarray], stems: int) -> list[np.ndarray]: ...


class Segments:
    """The 44.1 kHz core: stereo-pair channels in, overlap-added stems out.

    Parameters
    ----------
    method : SegmentModel
    channels : int
        An even number: channel pairs side by side.
    stems : int
        1: the foreground only (the background is the mixture minus it); 2: both.
    keep_masks : bool
        Record ``(first_frame, fg_mask)`` per final range in ``masks`` instead of separating
        (for :meth:`SpleeterMethod.masks` and the ``hybrid``, which pops them as they come;
        the background's mask is one minus it): then no stems come out.
    """

    def __init__(
        self,
        method: SegmentModel,
        channels: int,
        stems: int,
        keep_masks: bool = False,
        on_frames: Callable[[int], None] | None = None,
    ) -> None:
        self._method = method
        self._on_frames = on_frames
        self._window = hann(N_FFT)
        self._frames = FrameSource(channels, N_FFT, HOP)
        self._ola = OverlapAddStream(channels, N_FFT, HOP, self._window, stems)
        self._stems = stems
        self._overlap = method.config.overlap
        self._stride = SEGMENT - self._overlap
        self._next = 0
        self._done = False
        self._pending: deque[_Segment] = deque()
        self._acc: list[np.ndarray] | None = None
        self.masks: list[tuple[int, np.ndarray]] | None = [] if keep_masks else None

    @property
    def received(self) -> int:
        return self._frames.received

    def push(self, block: np.ndarray) -> list[list[np.ndarray]]:
        """Add 44.1 kHz samples; return the finished output blocks (one array per stem)."""
        self._frames.append(block)
        return self._run(final=False)

    def finish(self) -> list[list[np.ndarray]]:
        """End the stream; return the rest, up to exactly the number of samples pushed."""
        self._frames.end()
        outs = self._run(final=True)
        if self.masks is None:
            outs.append(self._ola.finish(self._frames.received))
        # else nothing was overlap-added: finishing would build a silent clip as long as the
        # stream (the whole-clip peak of the hybrid, which keeps masks on long streams)
        return outs

    def _run(self, final: bool) -> list[list[np.ndarray]]:
        outs = []
        while (seg := self._schedule()) is not None:
            self._pending.append(seg)
            # One segment stays in flight on the network thread while the previous one is
            # post-processed here, so both cores have work.
            while len(self._pending) > 1:
                outs.append(self._finalize(self._pending.popleft()))
        while final and self._pending:
            outs.append(self._finalize(self._pending.popleft()))
        return outs

    def _schedule(self) -> _Segment | None:
        """Start the next segment's networks if its frames and its successor are known."""
        if self._done:
            return None
        s, src = self._next, self._frames
        total = src.total_frames
        if total is None:
            if self._overlap:
                # Regular successor s + stride as soon as the clip has frames past it + SEGMENT
                # (otherwise the last segment is aligned to the end, which needs the end).
                if src.received < (s + SEGMENT + self._stride - 1) * HOP:
                    return None
            elif not src.available(s + SEGMENT):
                return None
            nxt: int | None = s + self._stride
            end = s + self._stride
        else:
            if s and s >= total:
                self._done = True
                return None
            nxt = None
            if s + SEGMENT < total:
                nxt = min(s + self._stride, total - SEGMENT) if self._overlap else s + SEGMENT
            end = min(nxt if nxt is not None else s + SEGMENT, total)
        mix = src.frames(s, s + SEGMENT, self._window)
        seg = _Segment(s, nxt, end, mix, self._method._submit(mix))
        if nxt is None:
            self._done = True
        else:
            self._next = nxt
            src.release(nxt)
        return seg

    def _finalize(self, seg: _Segment) -> list[np.ndarray]:
        """Cross-fade the segment's estimates with the previous tail, mask, filter, add."""
        s = seg.start
        est = list(seg.estimates.result())
        if self._acc is None:
            acc = [e.copy() for e in est]
        else:
            # self._acc holds frames [s, previous end) of the previous segment, faded out
            shared = self._acc[0].shape[2]
            ramp = (np.arange(shared, dtype=np.float32) + 0.5) / max(shared, 1)
            for e, tail in zip(est, self._acc, strict=True):
                e[:, :, :shared] *= ramp
                e[:, :, :shared] += tail
            acc = est
        if seg.next is not None and seg.next < s + SEGMENT:
            # fade out the part shared with the next segment and keep it for then
            shared = s + SEGMENT - seg.next
            ramp = 1.0 - (np.arange(shared, dtype=np.float32) + 0.5) / shared
            self._acc = [a[:, :, seg.next - s :] * ramp for a in acc]
        else:
            self._acc = None
        if self._on_frames is not None:
            self._on_frames(seg.end)
        count = seg.end - s
        mix = seg.mix[:, :, :count]
        v = [a[:, :, :count] for a in acc]
        if self.masks is not None:
            self.masks.append((s, self._method._fg_mask(mix, v)))
            return []
        return self._ola.add(s, self._method._stems(mix, v, self._stems))


class SpleeterStream:
    """A :class:`~camb_notebook.methods.Separator` running Spleeter (see the module docstring).

    Made by :meth:`SpleeterMethod.stream`; results equal :meth:`SpleeterMethod.separate`'s
    sample for sample, whatever the block sizes.
    """

    def __init__(
        self,
        method: SegmentModel,
        sr: int,
        channels: int,
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.sr = check_rate(sr)
        self.channels = check_channels(channels)
        self._own_bg = method.config.highband == "zero"
        stems = 2 if self._own_bg else 1
        pairs = channel_pairs(self.channels)
        self._src = [c for pair in pairs for c in (pair[0], pair[-1])]
        self._mono = [len(pair) == 1 for pair in pairs]
        self._identity = self._src == list(range(self.channels))
        width = len(self._src)
        self._down = Resampler(self.sr, SR, self.channels) if self.sr != SR else None
        self._up = Resampler(SR, self.sr, width * stems) if self.sr != SR else None
        # progress counts the 44.1 kHz frames finished (the last one of each segment)
        frames = None if total is None else n_frames(round(total * SR / self.sr), HOP)
        self._core = Segments(method, width, stems, on_frames=Progress(progress, frames))
        # Without its own background stem, bg = x - fg: the input waits for its foreground.
        self._input = None if self._own_bg else SampleQueue(self.channels)
        self._out = [SampleQueue(self.channels) for _ in range(stems)]
        self._n_in = 0
        self._n_out = 0
        self._finished = False

    def push(self, block: np.ndarray) -> Blocks:
        """Add a ``(channels, n)`` block; return the ``(fg, bg)`` blocks now final."""
        x = self._check(block)
        self._n_in += x.shape[1]
        if self._input is not None:
            self._input.push(x)
        y = self._down(x) if self._down is not None else x
        return self._emit(self._core.push(self._expand(y)), final=False)

    def finish(self) -> Blocks:
        """End the input; return the remaining ``(fg, bg)`` blocks."""
        if self._finished:
            raise RuntimeError("finish() was called already")
        self._finished = True
        outs: list[list[np.ndarray]] = []
        if self._down is not None:
            outs += self._core.push(self._expand(self._down.flush()))
        if self._core.received:
            outs += self._core.finish()
        return self._emit(outs, final=True)

    def _check(self, block: np.ndarray) -> np.ndarray:
        if self._finished:
            raise RuntimeError("push() after finish(): open a new stream")
        x = check_block(block, self.channels)
        return x.copy() if x is block else x  # queued by reference: never the caller's buffer

    def _expand(self, y: np.ndarray) -> np.ndarray:
        return y if self._identity else y[self._src]

    def _collapse(self, z: np.ndarray) -> np.ndarray:
        if self._identity:
            return z
        rows = []
        for p, mono in enumerate(self._mono):
            pair = z[2 * p : 2 * p + 2]
            rows.append(pair.mean(axis=0, keepdims=True) if mono else pair)
        return np.concatenate(rows)

    def _emit(self, outs: list[list[np.ndarray]], final: bool) -> Blocks:
        width = len(self._src)
        outs = [parts for parts in outs if parts and parts[0].shape[1]]
        if self._up is not None:
            # one resampler for every stem and channel: soxr filters each channel alone
            outs = [[self._up(np.concatenate(parts))] for parts in outs]
            if final:
                outs.append([self._up.flush()])
            outs = [[c[j * width : (j + 1) * width] for j in range(len(self._out))] for [c] in outs]
        for parts in outs:
            for part, queue in zip(parts, self._out, strict=True):
                queue.push(self._collapse(part))
        # Never more output than input; at the end exactly as much (resampling rounds).
        due = self._n_in - self._n_out
        if final and len(self._out[0]) < due:
            pad = np.zeros((self.channels, due - len(self._out[0])), np.float32)
            for queue in self._out:
                queue.push(pad)
        k = min(len(self._out[0]), due)
        if k == 0:
            return []
        fg = self._out[0].pop(k)
        bg = self._out[1].pop(k) if self._input is None else self._input.pop(k) - fg
        self._n_out += k
        return [(fg, bg)]
