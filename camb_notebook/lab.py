"""The mask lab: blend, sharpen and Wiener-filter two methods' masks over a short span, and
hear and score the result against the true stems at once.

A method's soft mask decides, bin by bin, how much of the mixture is foreground. The lab
takes the masks two methods computed for a clip (``method.masks(audio, sr)``), brings them
onto one STFT grid (librosa's 2048/512 at the clip's rate), and for each setting of three
knobs makes a foreground and a background from a span of at most five seconds:

1. **blend** ``w``: the mask ``(1 − w)·M_a + w·M_b`` (0 = the first method, 1 = the second);
2. **sharpness** ``p``: ``M^p / (M^p + (1 − M)^p)`` (1 leaves it, above 1 pushes each bin
   towards all-or-nothing, below 1 towards an even share);
3. **Wiener iterations** ``k``: the multichannel Wiener filter of the methods (its EM
   re-estimates each stem's power and stereo image, then shares each bin by them), seeded
   with the masked mixture;

then inverts the STFT and scores both stems against the truth (the SDR of
:func:`audio.sdr`). The STFT of the span (``librosa.stft``), the masks and the true stems'
energies are computed once; the inverse is ``librosa.istft``'s, with its window
normalisation computed once too (a test holds the two equal). So a move of a knob costs one
mask, one inverse STFT and the Wiener steps: the benchmark (``python -m benchmarks lab``)
measures it against the 300 ms a slider may take. One mask is shared by the channels (the
methods' masks are averaged over channels), as REPET's is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ._exceptions import ConfigurationError, InputError
from .audio import Stems, sdr
from .methods import SoftMasks

__all__ = ["MAX_SECONDS", "PREVIEW_BITRATE", "LabResult", "MaskLab", "sharpen"]

#: The longest span the lab works on (a knob must answer within a blink).
MAX_SECONDS = 5.0
N_FFT, HOP = 2048, 512
#: Bitrate of :meth:`MaskLab.preview` (mono Ogg Opus).
PREVIEW_BITRATE = 32_000

#: ``wiener(x, y, iterations)``: mixture STFT ``(2, F, T)``, seeds ``(J, 2, F, T)`` → refined.
WienerFilter = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def sharpen(mask: np.ndarray, p: float) -> np.ndarray:
    """``M^p / (M^p + (1 − M)^p)``: sharper (p > 1) or softer (p < 1); 0.5 and the ends stay.

    Examples
    --------
    >>> [round(float(v), 3) for v in sharpen(np.array([0.0, 0.25, 0.5, 0.9, 1.0]), 2.0)]
    [0.0, 0.1, 0.5, 0.988, 1.0]
    """
    if not p > 0:
        raise InputError(f"sharpness={p!r} must be above 0 (1 leaves the mask as it is)")
    if p == 1:
        return mask
    a = np.power(mask, p, dtype=np.float32)
    b = np.power(1 - mask, p, dtype=np.float32)
    return a / np.maximum(a + b, np.float32(1e-30))


def _energy(x: np.ndarray) -> float:
    flat = x.ravel()
    return float(np.dot(flat, flat))


def _default_wiener() -> WienerFilter:
    from .methods import wiener

    return wiener


def _regrid(masks: SoftMasks, sr: int, n_bins: int, times: np.ndarray) -> np.ndarray:
    """The foreground mask on the lab's grid: linear in frequency (Hz) and time (s)."""
    m = masks.foreground
    fb = np.arange(n_bins) * (sr / N_FFT) / (masks.sr / masks.n_fft)
    ft = times / (masks.hop / masks.sr)

    def axis(pos: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = np.clip(pos, 0, size - 1)
        lo = np.floor(pos).astype(np.intp)
        hi = np.minimum(lo + 1, size - 1)
        return lo, hi, (pos - lo).astype(np.float32)

    flo, fhi, fw = axis(fb, m.shape[1])
    tlo, thi, tw = axis(ft, m.shape[2])
    rows = m[:, flo] * (1 - fw)[:, None] + m[:, fhi] * fw[:, None]
    return rows[:, :, tlo] * (1 - tw) + rows[:, :, thi] * tw


@dataclass(frozen=True)
class LabResult:
    """What one setting of the knobs gives.

    Attributes
    ----------
    foreground, background : np.ndarray [shape=(channels, n)]
        The span's stems; they add up to the span of the mixture.
    sdr_foreground, sdr_background : float
        Their SDR in dB against the true stems of the span.
    mask : np.ndarray [shape=(bins, frames)]
        The foreground mask used (after blend and sharpening, before Wiener).
    seconds : float
        How long the update took.
    """

    foreground: np.ndarray
    background: np.ndarray
    sdr_foreground: float
    sdr_background: float
    mask: np.ndarray
    seconds: float


class MaskLab:
    """Two methods' masks on one grid over a span of a clip whose true stems are known.

    Parameters
    ----------
    truth : Stems
        The clip and its true stems (e.g. ``camb_notebook.examples.example_truth()``).
    masks : mapping of str to SoftMasks
        Two methods' masks of the whole clip, ``{"spleeter": ..., "repet": ...}``; the
        blend goes from the first (0) to the second (1).
    start, seconds : float
        The span, at most :data:`MAX_SECONDS` long.
    wiener : callable, optional
        The multichannel Wiener filter, ``wiener(x, y, iterations)``; default
        :func:`camb_notebook.methods.wiener` (the step Spleeter ends with).

    Examples
    --------
    >>> from camb_notebook.methods import ideal_ratio_mask
    >>> t = np.arange(3 * 8000) / 8000
    >>> voice = np.repeat(0.5 * np.sin(2 * np.pi * 440 * t)[None], 2, 0).astype(np.float32)
    >>> band = np.random.default_rng(0).uniform(-0.2, 0.2, (2, t.size)).astype(np.float32)
    >>> truth = Stems(voice + band, voice, band, 8000)
    >>> oracle = ideal_ratio_mask(truth.foreground, truth.background, 8000, 512, 128)
    >>> half = SoftMasks(0 * oracle.foreground + 0.5, 0 * oracle.foreground + 0.5,
    ...                  8000, 512, 128, "half")
    >>> lab = MaskLab(truth, {"oracle": oracle, "half": half}, start=1.0, seconds=1.0)
    >>> good, even = lab.apply(blend=0.0), lab.apply(blend=1.0)
    >>> round(good.sdr_foreground), round(even.sdr_foreground)  # the oracle; a 50/50 share
    (26, 6)
    """

    def __init__(
        self,
        truth: Stems,
        masks: Mapping[str, SoftMasks],
        *,
        start: float = 0.0,
        seconds: float = MAX_SECONDS,
        wiener: WienerFilter | None = None,
    ) -> None:
        import librosa

        if not isinstance(truth, Stems):
            raise InputError(f"MaskLab takes the true stems as Stems, got {type(truth).__name__}")
        if len(masks) != 2:
            raise InputError(f"MaskLab blends two methods' masks, got {len(masks)}: {list(masks)}")
        if not 0 < seconds <= MAX_SECONDS:
            raise InputError(
                f"seconds={seconds!r}: the lab works on spans of up to {MAX_SECONDS:g} s, so "
                "that a knob answers at once; pick a shorter span",
                parameter="seconds",
                value=seconds,
            )
        if not 0 <= start <= truth.duration - seconds:
            raise InputError(
                f"start={start!r}: a {seconds:g} s span must start between 0 and "
                f"{truth.duration - seconds:.2f} s in this {truth.duration:.2f} s clip",
                parameter="start",
                value=start,
            )
        self.names = tuple(masks)
        self.sr = truth.sr
        self.start, self.seconds = float(start), float(seconds)
        span = truth.read(start, start + seconds, unit="seconds")
        self.mixture, self.true_foreground, self.true_background = (
            span.original,
            span.foreground,
            span.background,
        )
        self.n = span.n_samples
        # The STFT of the span, once: (channels, bins, frames), complex64.
        self.X = librosa.stft(self.mixture, n_fft=N_FFT, hop_length=HOP)
        times = self.start + np.arange(self.X.shape[-1]) * (HOP / self.sr)
        self.masks = {
            name: _regrid(m, self.sr, self.X.shape[1], times).mean(axis=0).astype(np.float32)
            for name, m in masks.items()
        }
        self._wiener: WienerFilter = wiener if wiener is not None else _default_wiener()
        self._window = librosa.filters.get_window("hann", N_FFT, fftbins=True).astype(np.float32)[
            :, None
        ]
        sumsq = librosa.filters.window_sumsquare(
            window="hann",
            n_frames=self.X.shape[-1],
            hop_length=HOP,
            n_fft=N_FFT,
            win_length=N_FFT,
            dtype=np.float32,
        )[N_FFT // 2 : N_FFT // 2 + self.n]
        tiny = np.finfo(np.float32).tiny
        self._norm = np.where(sumsq > tiny, 1.0 / np.maximum(sumsq, tiny), 1.0).astype(np.float32)
        self._energy = (_energy(self.true_foreground), _energy(self.true_background))

    def _istft(self, F: np.ndarray) -> np.ndarray:
        """``librosa.istft(F, hop_length=HOP, n_fft=N_FFT, length=n)`` for the span's grid."""
        frames = np.fft.irfft(F, n=N_FFT, axis=-2).astype(np.float32) * self._window
        ch, _, T = frames.shape
        out = np.zeros((ch, (T - 1) * HOP + N_FFT), np.float32)
        # Overlap-add with hop = n_fft / 4: each quarter of a frame lands on one hop slot.
        quarters = frames.reshape(ch, 4, HOP, T)
        for q in range(4):
            out[:, q * HOP : q * HOP + T * HOP] += quarters[:, q].transpose(0, 2, 1).reshape(ch, -1)
        out = out[:, N_FFT // 2 : N_FFT // 2 + self.n]
        return out * self._norm

    @property
    def has_wiener(self) -> bool:
        """True when Wiener iterations are available: the filter models a stereo image."""
        return self.X.shape[0] == 2

    def mask(self, *, sharpness: float = 1.0, blend: float = 0.5) -> np.ndarray:
        """The foreground mask ``(bins, frames)`` for these knobs (before Wiener)."""
        if not 0 <= blend <= 1:
            raise InputError(
                f"blend={blend!r} must lie between 0 ({self.names[0]}) and 1 ({self.names[1]})"
            )
        a, b = (self.masks[name] for name in self.names)
        return sharpen(a + np.float32(blend) * (b - a), sharpness)

    def apply(
        self, *, sharpness: float = 1.0, iterations: int = 0, blend: float = 0.5
    ) -> LabResult:
        """Make and score the span's stems for one setting of the knobs.

        Parameters
        ----------
        sharpness : float
            Exponent ``p`` of :func:`sharpen` (1: the mask as it is).
        iterations : int
            Wiener EM iterations (0: the mask alone).
        blend : float
            0 = the first method's mask, 1 = the second's.

        Returns
        -------
        LabResult
        """
        started = time.perf_counter()
        M = self.mask(sharpness=sharpness, blend=blend)
        F = M * self.X
        if iterations:
            if not self.has_wiener:
                raise ConfigurationError(
                    f"iterations={iterations!r}: the Wiener filter models each stem's stereo "
                    f"image and this clip has {self.X.shape[0]} channel; use iterations=0",
                    setting="iterations",
                    value=iterations,
                )
            y = np.stack([F, self.X - F]).astype(np.complex64)
            F = self._wiener(self.X.astype(np.complex64), y, int(iterations))[0]
        fg = self._istft(F)
        bg = self.mixture - fg
        return LabResult(
            fg,
            bg,
            self._sdr(0, self.true_foreground - fg),
            self._sdr(1, self.true_background - bg),
            M,
            time.perf_counter() - started,
        )

    def _sdr(self, which: int, error: np.ndarray) -> float:
        """:func:`audio.sdr` with the true stem's energy known: ``10·log10(Σ s² / Σ e²)``."""
        return float(10 * np.log10((self._energy[which] + 1e-12) / (_energy(error) + 1e-12)))

    def preview(self, samples: np.ndarray) -> bytes:
        """A small Ogg Opus file of *samples* for a player: mono, 32 kb/s (stereo Opus takes
        three times as long to encode, too long for a knob).

        Examples
        --------
        >>> # IPython.display.HTML(viz.audio_tag("voice", lab.preview(result.foreground)))
        """
        from .audio import encode_preview

        mono = np.asarray(samples, np.float32)
        mono = mono.mean(axis=0, keepdims=True) if mono.ndim == 2 else mono[None]
        return encode_preview(mono, self.sr, bitrate=PREVIEW_BITRATE)

    def oracle(self) -> LabResult:
        """The ideal ratio mask of the span's true stems (the best a mask on this grid does)."""
        import librosa

        started = time.perf_counter()
        f = np.abs(librosa.stft(self.true_foreground, n_fft=N_FFT, hop_length=HOP)) ** 2
        b = np.abs(librosa.stft(self.true_background, n_fft=N_FFT, hop_length=HOP)) ** 2
        M = (f / np.maximum(f + b, 1e-20)).astype(np.float32)
        fg = librosa.istft(M * self.X, hop_length=HOP, n_fft=N_FFT, length=self.n)
        fg = fg.astype(np.float32)
        bg = self.mixture - fg
        return LabResult(
            fg,
            bg,
            sdr(self.true_foreground, fg),
            sdr(self.true_background, bg),
            M.mean(axis=0),
            time.perf_counter() - started,
        )
