"""The ``hybrid`` method on a stream of blocks: Spleeter's masks, DeepFilterNet3's, one Wiener step.

Per pushed block::

    block (sr) ─┬─ resample to 44.1 kHz ─┬─ Spleeter segments (masks only) ───────────┐
                │                        └─ mixture STFT (4096/1024) ───────────────┤
                └─ DeepFilterNet3 (48 kHz) → 44.1 kHz → its STFT on the same grid ──┤
                                                                                    ▼
        per final range of frames: fused mask = Ms + w·gate·(Md − Ms), Wiener EM per
        channel pair, overlap-add → resample back to sr → foreground; bg = block − fg

``Ms`` is Spleeter's ratio mask (cross-faded segments, as in ``spleeter``), ``Md`` =
``|D| / (|D| + |X − D|)`` the magnitude-ratio mask of DeepFilterNet3's output ``D`` on the
same grid, ``gate`` the per-frame agreement gate of :mod:`._gate`. A range of frames is fused
once the gate's look-ahead (107 frames, 2.5 s) is known, i.e. once the next range's Spleeter
masks are: the output lags the input by up to ~35 s (three segments), and the memory held is
a few segments per channel pair, whatever the length.
"""

from __future__ import annotations

import functools
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple, Protocol

import numpy as np

from ._base import Blocks, ProgressCallback, check_block, check_channels, check_rate
from ._dfn_stream import Enhancer, EnhancerModel
from ._gate import agreement_gate, reach
from ._spleeter_stream import HOP, N_FFT, SR, SegmentModel, Segments, channel_pairs
from ._stft import FrameSource, OverlapAddStream, hann, n_frames
from ._stream import Progress, Resampler, SampleQueue
from ._wiener import wiener

__all__ = ["FusionModel", "HybridCore", "HybridStream"]

BINS = 1024  # Spleeter's band: 0 – 11 kHz
_CHUNK = 128  # bins through the fusion and the Wiener step at a time
_FRAMES = 64  # frames through the gate's energies at a time
_EPS = 1e-10


class _Config(Protocol):
    dfn_weight: float
    gate: bool
    gate_floor: float
    gate_low_db: float
    gate_high_db: float
    gate_smooth: int
    gate_context: int
    gate_density_low: float
    gate_density_high: float
    gate_hold: int
    wiener_iterations: int
    highband: str


class FusionModel(Protocol):
    """What the stream needs of a hybrid method (:class:`HybridMethod` is one): its config and
    its two models. Declared here so the stream does not import the method."""

    @property
    def config(self) -> _Config: ...

    @property
    def spleeter(self) -> SegmentModel: ...

    @property
    def dfn(self) -> EnhancerModel: ...


class _Range(NamedTuple):
    start: int
    spleeter: np.ndarray  # Spleeter's foreground mask (channels, 2049, frames), float32


class HybridCore:
    """The 44.1 kHz core: channel pairs of mixture and DeepFilterNet3 output in, foreground out.

    Parameters
    ----------
    method : FusionModel
    channels : int
        An even number: stereo pairs side by side.
    keep_masks : bool
        Record ``(first_frame, fused, spleeter, dfn, gate)`` per range in ``masks`` instead of
        separating (the fused mask, Spleeter's, DeepFilterNet3's ``Md`` on every bin, the
        gate per frame).
    """

    def __init__(self, method: FusionModel, channels: int, keep_masks: bool = False) -> None:
        self._method = method
        cfg = method.config
        self._window = hann(N_FFT)
        self._spleeter = Segments(method.spleeter, channels, 1, keep_masks=True)
        self._mix = FrameSource(channels, N_FFT, HOP)
        self._dfn = FrameSource(channels, N_FFT, HOP)
        self._ola = OverlapAddStream(channels, N_FFT, HOP, self._window, 1)
        self._reach = reach(cfg.gate_smooth, cfg.gate_context, cfg.gate_hold)
        # bins where DeepFilterNet3 is listened to: Spleeter's band, or all of them
        self._top = BINS if cfg.highband == "spleeter" else N_FFT // 2 + 1
        self._waiting: deque[tuple[int, np.ndarray]] = deque()  # Spleeter ranges without D yet
        self._ranges: deque[_Range] = deque()  # ranges waiting for the gate's look-ahead
        # per-frame energies (Spleeter's voice, DeepFilterNet3's, mixture) of frames from _base
        self._base = 0
        self._energy = np.zeros((3, 0), np.float64)
        self.frames_done = 0
        # (first_frame, fused, Spleeter's mask, DeepFilterNet3's Md on every bin, gate) per range
        self.masks: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] | None = (
            [] if keep_masks else None
        )

    @property
    def received(self) -> int:
        return self._mix.received

    def push(self, mix: np.ndarray, dfn: np.ndarray) -> list[np.ndarray]:
        """Add 44.1 kHz mixture samples and DeepFilterNet3 output samples (any counts)."""
        if mix.shape[1]:
            self._mix.append(mix)
            self._spleeter.push(mix)
        if dfn.shape[1]:
            self._dfn.append(dfn)
        return self._run()

    def finish(self) -> list[np.ndarray]:
        """End both streams; return the rest of the foreground (as many samples as pushed)."""
        self._mix.end()
        self._dfn.end()
        if self._spleeter.received:
            self._spleeter.finish()
        outs = self._run()
        outs.append(self._ola.finish(self._mix.received)[0])
        return outs

    def _run(self) -> list[np.ndarray]:
        masks = self._spleeter.masks
        assert masks is not None
        while masks:
            self._waiting.append(masks.pop(0))
        # Spleeter's ranges come with their frames; DeepFilterNet3's output may lag a little.
        while self._waiting:
            start, fg_mask = self._waiting[0]
            stop = start + fg_mask.shape[2]
            if not self._dfn.available(stop):
                break
            self._waiting.popleft()
            # Only the gate's energies now: a range waits ~a segment for the gate's look-ahead,
            # and its spectra (complex, every bin) are 4x the samples they come from, so they
            # are cut again from the samples when the range is fused. A few frames at a time:
            # each frame's energies are its own sums, and the spectra of a whole range at
            # once were ~30 MB more at the engine worker's peak.
            e = [
                self._energies(fg_mask[:, :BINS, f0 - start : f1 - start], f0, f1)
                for f0 in range(start, stop, _FRAMES)
                for f1 in [min(f0 + _FRAMES, stop)]
            ]
            self._energy = np.concatenate([self._energy, *e], axis=1)
            self._ranges.append(_Range(start, fg_mask))
        known = self._base + self._energy.shape[1]
        total = self._mix.total_frames
        outs = []
        while self._ranges:
            r = self._ranges[0]
            stop = r.start + r.spleeter.shape[2]
            ahead = stop + self._reach
            if known < ahead and not (total is not None and known >= total):
                break
            del r  # _fuse gets the range alone: its mask is dropped once no longer needed
            outs.append(self._fuse(self._ranges.popleft(), known))
        return [o for o in outs if o.shape[1]]

    def _energies(self, fg_mask: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Per-frame energies below 11 kHz of Spleeter's voice, DeepFilterNet3's, the mixture."""
        x = self._mix.frames(start, stop, self._window)[:, :BINS]
        d = self._dfn.frames(start, stop, self._window)[:, :BINS]
        p = x.real**2 + x.imag**2
        return np.stack(
            [
                (fg_mask**2 * p).sum(axis=(0, 1)),
                (d.real**2 + d.imag**2).sum(axis=(0, 1)),
                p.sum(axis=(0, 1)),
            ]
        )

    def _fuse(self, r: _Range, known: int) -> np.ndarray:
        cfg = self._method.config
        count = r.spleeter.shape[2]
        lo = max(r.start - self._reach, self._base)
        hi = min(r.start + count + self._reach, known)
        e = self._energy[:, lo - self._base : hi - self._base]
        if cfg.gate:
            gate = agreement_gate(
                e[0],
                e[1],
                e[2],
                floor=cfg.gate_floor,
                low_db=cfg.gate_low_db,
                high_db=cfg.gate_high_db,
                smooth=cfg.gate_smooth,
                context=cfg.gate_context,
                density_low=cfg.gate_density_low,
                density_high=cfg.gate_density_high,
                hold=cfg.gate_hold,
            )[r.start - lo : r.start - lo + count]
        else:
            gate = np.ones(count, np.float32)
        # history the next ranges' gates need: reach frames before the next range
        drop = r.start + count - self._reach - self._base
        if drop > 0:
            self._energy = self._energy[:, drop:]
            self._base += drop
        stop = r.start + count
        d = self._dfn.frames(r.start, stop, self._window)
        self._dfn.release(stop)
        mix = self._mix.frames(r.start, stop, self._window)
        self._mix.release(stop)
        top = self._top
        weight = cfg.dfn_weight * gate
        self.frames_done = stop
        if self.masks is not None:  # every bin of Md, to show; Spleeter's mask kept as it is
            md = _magnitude_mask(d, mix)
            fused = r.spleeter.copy()
            fused[:, :top] += weight * (md[:, :top] - fused[:, :top])
            self.masks.append((r.start, fused, r.spleeter, md, gate.astype(np.float32)))
            return np.zeros((mix.shape[0], 0), np.float32)
        # Md and the fusion a chunk of bins at a time, into Spleeter's mask (not needed after):
        # the same numbers, without whole-range temporaries (~20 MB at the worker's peak).
        fused = r.spleeter
        del r
        for f0 in range(0, top, _CHUNK):
            f1 = min(f0 + _CHUNK, top)
            part = fused[:, f0:f1]
            part += weight * (_magnitude_mask(d[:, f0:f1], mix[:, f0:f1]) - part)
        del d
        y = fused * mix
        del fused
        iterations = cfg.wiener_iterations
        if iterations:
            # Below 11 kHz, as in Spleeter: the Wiener step, a chunk of bins at a time (every
            # bin is filtered on its own; chunks keep the temporaries small), its regulariser
            # set once for the block. Above, the fused mask alone (Spleeter's rule there).
            power = max(
                float(np.max(x.real**2 + x.imag**2))
                for f0 in range(0, BINS, _CHUNK)
                for x in [mix[:, f0 : min(f0 + _CHUNK, BINS)]]
            )
            eps = max(1e-10 * power, 1e-20)
            for f0 in range(0, BINS, _CHUNK):
                f1 = min(f0 + _CHUNK, BINS)
                x = mix[:, f0:f1]
                for c in range(0, x.shape[0], 2):  # each stereo pair on its own
                    fg = y[c : c + 2, f0:f1]
                    pair = x[c : c + 2]
                    y[c : c + 2, f0:f1] = wiener(pair, np.stack([fg, pair - fg]), iterations, eps)[
                        0
                    ]
        return self._ola.add(stop - count, [y])[0]


def _magnitude_mask(d: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """DeepFilterNet3's magnitude-ratio mask ``Md = |D| / (|D| + |X - D| + eps)``, float32."""
    ad = np.abs(d)
    return ad / (ad + np.abs(mix - d) + np.float32(_EPS))


class HybridStream:
    """A :class:`~camb_notebook.methods.Separator` running the hybrid (module docstring).

    Made by :meth:`HybridMethod.stream`; results equal :meth:`HybridMethod.separate`'s
    whatever the block sizes.
    """

    def __init__(
        self,
        method: FusionModel,
        sr: int,
        channels: int,
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.sr = check_rate(sr)
        self.channels = check_channels(channels)
        pairs = channel_pairs(self.channels)
        self._src = [c for pair in pairs for c in (pair[0], pair[-1])]
        self._mono = [len(pair) == 1 for pair in pairs]
        self._identity = self._src == list(range(self.channels))
        self._down = Resampler(self.sr, SR, self.channels) if self.sr != SR else None
        self._up = Resampler(SR, self.sr, len(self._src)) if self.sr != SR else None
        self._dfn = Enhancer(method.dfn, self.sr, self.channels, sr_out=SR)
        # DeepFilterNet3 runs on its own thread, beside Spleeter's network thread and the
        # fusion here; the core waits for its output, so results do not depend on timing.
        self._dfn_jobs: deque[Future] = deque()
        self._core = HybridCore(method, len(self._src))
        frames = None if total is None else n_frames(round(total * SR / self.sr), HOP)
        self._progress = Progress(progress, frames)
        self._input = SampleQueue(self.channels)
        self._out = SampleQueue(self.channels)
        self._n_in = 0
        self._n_out = 0
        self._finished = False

    def push(self, block: np.ndarray) -> Blocks:
        """Add a ``(channels, n)`` block; return the ``(fg, bg)`` blocks now final."""
        if self._finished:
            raise RuntimeError("push() after finish(): open a new stream")
        x = check_block(block, self.channels)
        x = x.copy() if x is block else x  # queued by reference: never the caller's buffer
        self._n_in += x.shape[1]
        self._input.push(x)
        self._dfn_jobs.append(_dfn_thread().submit(self._dfn.push, x))
        mix = self._down(x) if self._down is not None else x
        outs = self._core.push(self._expand(mix), self._dfn_output(wait=_MAX_JOBS))
        return self._emit(outs, final=False)

    def finish(self) -> Blocks:
        """End the input; return the remaining ``(fg, bg)`` blocks."""
        if self._finished:
            raise RuntimeError("finish() was called already")
        self._finished = True
        self._dfn_jobs.append(_dfn_thread().submit(self._dfn.finish))
        mix = self._down.flush() if self._down is not None else self._empty()
        outs = self._core.push(self._expand(mix), self._dfn_output(wait=0))
        if self._core.received:
            outs += self._core.finish()
        return self._emit(outs, final=True)

    def _dfn_output(self, wait: int) -> np.ndarray:
        """DeepFilterNet3's finished output, in order; waits while more than ``wait`` run."""
        parts = []
        while self._dfn_jobs and (len(self._dfn_jobs) > wait or self._dfn_jobs[0].done()):
            parts.append(self._dfn_jobs.popleft().result())
        d = np.concatenate(parts, axis=1) if parts else self._empty()
        return self._expand(d)

    def _empty(self) -> np.ndarray:
        return np.zeros((self.channels, 0), np.float32)

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

    def _emit(self, outs: list[np.ndarray], final: bool) -> Blocks:
        self._progress(self._core.frames_done)
        outs = [o for o in outs if o.shape[1]]
        if self._up is not None:
            outs = [self._up(o) for o in outs]
            if final:
                outs.append(self._up.flush())
        for o in outs:
            self._out.push(self._collapse(o))
        due = self._n_in - self._n_out
        if final and len(self._out) < due:  # resampling rounds the length
            self._out.push(np.zeros((self.channels, due - len(self._out)), np.float32))
        k = min(len(self._out), due)
        if k == 0:
            return []
        fg = self._out.pop(k)
        self._n_out += k
        return [(fg, self._input.pop(k) - fg)]


#: Blocks DeepFilterNet3 may be behind before ``push`` waits for it (bounds the memory).
_MAX_JOBS = 4


@functools.lru_cache(maxsize=1)
def _dfn_thread() -> ThreadPoolExecutor:
    """The thread that runs DeepFilterNet3 beside Spleeter's networks."""
    return ThreadPoolExecutor(1, thread_name_prefix="deepfilternet")
