"""DeepFilterNet3 on a stream of blocks at any rate: resample to 48 kHz, enhance, resample back.

The pipeline of :class:`DeepFilterNetStream`, per pushed block::

    block (sr) -> resample to 48 kHz -> DfnCore (network every 2 s of audio, 30 ms delay
      compensated) -> resample back to sr -> foreground; background = block - foreground

Memory: one network chunk (2 s) plus the resamplers' filters, whatever the length.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ._base import Blocks, ProgressCallback, check_block, check_channels, check_rate
from ._dfn_dsp import HOP, SR, DfnCore, FrameHook
from ._stream import Progress, Resampler, SampleQueue

__all__ = ["DeepFilterNetStream", "Enhancer", "EnhancerModel"]


class _Config(Protocol):
    stereo: str
    atten_lim_db: float


class _Model(Protocol):
    norm_tau: float


class EnhancerModel(Protocol):
    """What the stream needs of a DeepFilterNet3 method (:class:`DeepFilterNetMethod` is one):
    its config, its onnxruntime session and its model's constants. Declared here so the stream
    does not import the method."""

    @property
    def config(self) -> _Config: ...

    @property
    def _session(self) -> Any: ...

    @property
    def _model(self) -> _Model: ...


class Enhancer:
    """DeepFilterNet3 at any rate: ``(channels, n)`` blocks at ``sr`` in, enhanced blocks out.

    The output, at ``sr_out`` (default ``sr``), is aligned with the input (its sample ``i``
    estimates the input at time ``i / sr_out``) and, once :meth:`finish` is called, as long
    as the input resampled to ``sr_out``. It lags the input by up to ~2 s (a network chunk)
    plus the resamplers' filters.
    """

    def __init__(
        self,
        method: EnhancerModel,
        sr: int,
        channels: int,
        hook: FrameHook | None = None,
        sr_out: int | None = None,
    ) -> None:
        cfg = method.config
        self.sr = sr
        self.sr_out = sr if sr_out is None else sr_out
        self.channels = channels
        self._core = DfnCore(
            method._session,
            channels,
            mode=cfg.stereo,
            atten_lim_db=cfg.atten_lim_db,
            norm_tau=method._model.norm_tau,
            hook=hook,
        )
        self._down = Resampler(sr, SR, channels) if sr != SR else None
        self._up = Resampler(SR, self.sr_out, channels) if self.sr_out != SR else None
        self._out = SampleQueue(channels)
        self.received = 0  # samples pushed, at sr
        self.emitted = 0  # samples returned, at sr_out

    @property
    def due(self) -> int:
        """Output samples owed for the input so far (all of them once finished)."""
        return round(self.received * self.sr_out / self.sr)

    def push(self, block: np.ndarray) -> np.ndarray:
        """Add samples; return the enhanced samples now final (possibly none)."""
        self.received += block.shape[1]
        y = self._down(block) if self._down is not None else block
        self._queue(self._core.push(y) if y.shape[1] else [])
        return self._take(len(self._out))

    def finish(self) -> np.ndarray:
        """End the input; return the rest (the output then has as many samples as the input)."""
        outs = []
        if self._down is not None:
            tail = self._down.flush()
            if tail.shape[1]:
                outs += self._core.push(tail)
        outs += self._core.finish()
        self._queue(outs)
        if self._up is not None:
            self._out.push(self._up.flush())
        due = self.due - self.emitted
        if len(self._out) < due:  # resampling rounds the length
            self._out.push(np.zeros((self.channels, due - len(self._out)), np.float32))
        return self._take(due)

    @property
    def frames_done(self) -> int:
        """48 kHz frames (10 ms) through the network so far."""
        return self._core.frames_done

    def _queue(self, outs: list[np.ndarray]) -> None:
        for y in outs:
            self._out.push(self._up(y) if self._up is not None else y)

    def _take(self, k: int) -> np.ndarray:
        k = min(k, self.due - self.emitted)
        self.emitted += k
        return self._out.pop(k) if k else np.zeros((self.channels, 0), np.float32)


class DeepFilterNetStream:
    """A :class:`~camb_notebook.methods.Separator` running DeepFilterNet3 (module docstring).

    Made by :meth:`DeepFilterNetMethod.stream`; results equal
    :meth:`DeepFilterNetMethod.separate`'s whatever the block sizes.
    """

    def __init__(
        self,
        method: EnhancerModel,
        sr: int,
        channels: int,
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.sr = check_rate(sr)
        self.channels = check_channels(channels)
        self._enhancer = Enhancer(method, self.sr, self.channels)
        self._input = SampleQueue(self.channels)
        self._progress = Progress(progress, None if total is None else total * SR / self.sr)
        self._finished = False

    def push(self, block: np.ndarray) -> Blocks:
        """Add a ``(channels, n)`` block; return the ``(fg, bg)`` blocks now final."""
        if self._finished:
            raise RuntimeError("push() after finish(): open a new stream")
        x = check_block(block, self.channels)
        x = x.copy() if x is block else x  # queued by reference: never the caller's buffer
        self._input.push(x)
        return self._emit(self._enhancer.push(x))

    def finish(self) -> Blocks:
        """End the input; return the remaining ``(fg, bg)`` blocks."""
        if self._finished:
            raise RuntimeError("finish() was called already")
        self._finished = True
        return self._emit(self._enhancer.finish())

    def _emit(self, fg: np.ndarray) -> Blocks:
        self._progress(self._enhancer.frames_done * HOP)
        if not fg.shape[1]:
            return []
        return [(fg, self._input.pop(fg.shape[1]) - fg)]
