"""What the player of a finished clip needs in the browser: one preview and each lane's pictures.

Everything is prepared in the kernel once per clip and sent as binary buffers; the browser
never decodes the full-quality stems. The audio of all lanes is one multichannel preview
(:mod:`._preview`); each lane has waveform peaks and a spectrogram image on a colour scale
shared by all lanes. The preview bitrate is chosen from the clip's duration so that a
10-minute clip stays under :data:`BROWSER_BUDGET_BYTES` with all four lanes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._states import LANES

if TYPE_CHECKING:
    from ..audio import Stems, StemWindow

__all__ = [
    "BROWSER_BUDGET_BYTES",
    "PASS_BLOCK",
    "PEAK_BINS",
    "SILENT_DB",
    "SPEC_HEIGHT",
    "SPEC_WIDTH",
    "LaneTap",
    "LaneVisuals",
    "lane_audio",
    "lane_window",
    "prepare_visuals",
    "preview_bitrate",
    "scale_of",
    "spectrogram_scale",
]

#: Bytes a 10-minute clip may send to the browser before any zoom, all lanes together.
BROWSER_BUDGET_BYTES = 15_000_000
#: Part of the budget left for the preview; the rest covers peaks, images and overhead.
_AUDIO_BUDGET_BYTES = 13_000_000
#: Opus bits per second per channel: 48k is a 96 kb/s stereo lane; 8k is Opus' useful floor.
_MIN_BITRATE = 8_000
_MAX_BITRATE = 48_000
_BITRATE_STEP = 1_000
#: A lane this quiet (RMS, dBFS) is shown as "silent" rather than as a black band.
SILENT_DB = -90.0

#: Waveform and spectrogram resolution: about one column per pixel of a wide cell.
PEAK_BINS = 1200
SPEC_WIDTH = 1200
SPEC_HEIGHT = 112
_SPEC_FRAMES = 2400
#: Samples per block when passing over the stems (1.5 s at 44.1 kHz: 0.5 MB per stereo lane).
PASS_BLOCK = 1 << 16


@dataclass(frozen=True)
class LaneVisuals:
    """The pictures of one lane of one clip.

    Attributes
    ----------
    lane : str
        ``original``, ``foreground``, ``background`` or ``residual``.
    peaks : bytes
        float32 ``(2, n_bins)`` min/max envelope, row-major.
    spectrogram : bytes
        PNG image, time left to right, low frequencies at the bottom.
    level_db : float
        RMS level of the full-quality lane in dBFS.
    """

    lane: str
    peaks: bytes
    spectrogram: bytes
    level_db: float

    @property
    def silent(self) -> bool:
        """Below :data:`SILENT_DB`: nothing to hear or see (a residual of exact stems)."""
        return self.level_db <= SILENT_DB

    @property
    def nbytes(self) -> int:
        """Bytes this lane's pictures send to a browser."""
        return len(self.peaks) + len(self.spectrogram)


def preview_bitrate(duration: float, channels: int = 2 * len(LANES)) -> int:
    """Opus bits per second *per channel* so that a preview of ``channels`` fits the budget.

    Short clips get 48 kb/s per channel (96 kb/s per stereo lane); a 10-minute stereo clip
    (eight channels) gets 21 kb/s per channel; very long clips never drop below 8 kb/s (their
    previews then exceed the budget).

    Examples
    --------
    >>> preview_bitrate(30.0), preview_bitrate(600.0), preview_bitrate(600.0, channels=4)
    (48000, 21000, 43000)
    """
    if duration <= 0:
        return _MAX_BITRATE
    fitting = _AUDIO_BUDGET_BYTES * 8 / (channels * duration)
    stepped = int(fitting // _BITRATE_STEP) * _BITRATE_STEP
    return max(_MIN_BITRATE, min(_MAX_BITRATE, stepped))


def _check_lane(lane: str) -> None:
    if lane not in LANES:
        from .._exceptions import InputError

        raise InputError(
            f"lane={lane!r} is not one of {', '.join(LANES)}", parameter="lane", value=lane
        )


def lane_audio(stems: Stems, lane: str) -> np.ndarray:
    """The whole samples of one lane (the residual is computed).

    This holds the whole lane in memory (4 bytes × channels × samples: 212 MB for ten
    minutes of 44.1 kHz stereo); the lanes' pictures never need it (see :class:`LaneTap`).
    """
    _check_lane(lane)
    return stems.residual if lane == "residual" else getattr(stems, lane)


def lane_window(window: StemWindow, lane: str) -> np.ndarray:
    """One lane's samples in a window of :meth:`Stems.blocks` (the residual is computed)."""
    return window.residual if lane == "residual" else getattr(window, lane)


class _PeakBins:
    """The min/max envelope of :func:`camb_notebook.viz.peaks`, gathered block by block.

    Bins are the same as over the whole clip (``n_bins`` equal bins of ``n`` samples);
    memory is the bins, whatever the clip's length.
    """

    def __init__(self, n: int, n_bins: int) -> None:
        self.n, self.n_bins = n, n_bins
        self.edges = (np.arange(n_bins, dtype=np.int64) * n) // n_bins
        self.lo = np.full(n_bins, np.inf, np.float32)
        self.hi = np.full(n_bins, -np.inf, np.float32)

    def add(self, x: np.ndarray, start: int) -> None:
        m = x.shape[1]
        if m == 0:
            return
        stop = start + m
        if self.n >= self.n_bins:
            # The bins this block touches; the first may have begun in an earlier block.
            i0 = int(np.searchsorted(self.edges, start, "right")) - 1
            i1 = int(np.searchsorted(self.edges, stop - 1, "right"))
            local = self.edges[i0:i1] - start
            local[0] = 0
            # Bins first, channels last: one pass over the samples for each of min and max.
            lo = np.minimum.reduceat(x, local, axis=1).min(axis=0)
            hi = np.maximum.reduceat(x, local, axis=1).max(axis=0)
            np.minimum(self.lo[i0:i1], lo, out=self.lo[i0:i1])
            np.maximum(self.hi[i0:i1], hi, out=self.hi[i0:i1])
        else:  # fewer samples than bins: each bin shows the sample at its position
            inside = (self.edges >= start) & (self.edges < stop)
            self.lo[inside] = x[:, self.edges[inside] - start].min(axis=0)
            self.hi[inside] = x[:, self.edges[inside] - start].max(axis=0)

    def result(self) -> np.ndarray:
        if self.n == 0:
            return np.zeros((2, self.n_bins), np.float32)
        return np.stack([self.lo, self.hi])


class _SpectrogramFrames:
    """The frames :func:`camb_notebook.viz.spectrogram_db` takes with ``max_frames``, taken
    block by block from a stream of ``(channels, m)`` blocks.

    Same hop, centring, window, channel average and scaling as over the whole clip;
    memory is the ``(frames, bins)`` result (about 10 MB at 2400 × 1025) and at most one
    frame of carried samples, whatever the clip's length. A long clip's frames are sparse
    (one 2048-sample frame every ``hop`` samples): only their samples are averaged and
    transformed.
    """

    def __init__(
        self, n: int, sr: int, channels: int, n_fft: int = 2048, max_frames: int = _SPEC_FRAMES
    ) -> None:
        from scipy.signal import get_window

        hop = max(max(1, n_fft // 4), n // max_frames + 1)
        self.n, self.n_fft, self.hop, self.pad = n, n_fft, hop, n_fft // 2
        self.channels = channels
        self.n_frames = 1 + n // hop
        window = get_window("hann", n_fft, fftbins=True).astype(np.float32)
        self.window = window * np.float32(2.0 / window.sum())
        self.freqs = np.arange(n_fft // 2 + 1) * (float(sr) / n_fft)
        self.out = np.empty((self.n_frames, n_fft // 2 + 1), np.float32)
        self.next = 0  # first frame not yet taken
        # Frames are centred: the clip is preceded by n_fft // 2 zeros.
        self.carry = np.zeros((channels, self.pad), np.float32)
        self.carry_start = -self.pad

    def add(self, x: np.ndarray, start: int) -> None:
        """Take the frames complete once ``x`` (samples from ``start`` on) is known."""
        if self.carry.shape[1]:
            buf, buf_start = np.concatenate([self.carry, x], axis=1), self.carry_start
        else:
            buf, buf_start = x, start
        end = start + x.shape[1]
        # Frame k covers [k * hop - pad, k * hop - pad + n_fft).
        k_stop = min(self.n_frames, max(0, (end + self.pad - self.n_fft) // self.hop + 1))
        if k_stop > self.next:
            offsets = np.arange(self.next, k_stop) * self.hop - self.pad - buf_start
            windows = np.lib.stride_tricks.sliding_window_view(buf, self.n_fft, axis=1)
            if self.channels == 1:
                frames = windows[0, offsets]
            else:  # as viz.spectrogram_db: the float32 mean of the channels
                frames = windows[:, offsets].mean(axis=0, dtype=np.float32)
            self._transform(frames, self.next)
            self.next = k_stop
        first = self.next * self.hop - self.pad  # where the next frame begins
        if self.next < self.n_frames and first < end:
            self.carry = buf[:, first - buf_start :].copy()
            self.carry_start = first
        else:
            self.carry = np.zeros((self.channels, 0), np.float32)

    def _transform(self, frames: np.ndarray, first: int) -> None:
        from scipy import fft as sp_fft

        frames *= self.window
        mag = np.abs(sp_fft.rfft(frames, axis=1, workers=1))
        np.maximum(mag, 1e-6, out=mag)  # viz.spectrogram_db's amin
        rows = self.out[first : first + mag.shape[0]]
        np.log10(mag, out=rows)
        rows *= 20.0

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """``(S_db [shape=(bins, frames)], freqs)`` once the whole clip went through."""
        if self.next < self.n_frames:  # the frames reaching past the end see zeros there
            self.add(np.zeros((self.channels, self.n_fft + self.pad), np.float32), self.n)
        return self.out.T, self.freqs


class LaneTap:
    """One lane's pictures and level, computed from its blocks as they stream past.

    Feed every block of the lane in order with :meth:`add`, then :meth:`visuals`.
    Memory is the result (peaks and one spectrogram of at most ``2400 × 1025`` values),
    whatever the clip's length.

    Parameters
    ----------
    lane : {"original", "foreground", "background", "residual"}
    n : int
        Samples per channel of the whole clip.
    channels : int
    sr : int

    Examples
    --------
    >>> tap = LaneTap("foreground", n=44100, channels=2, sr=44100)
    >>> for start in range(0, 44100, 10000):
    ...     tap.add(np.full((2, min(10000, 44100 - start)), 0.5, np.float32), start)
    >>> v = tap.visuals(scale=(-80.0, 0.0))
    >>> round(v.level_db, 1), v.spectrogram[:4]
    (-6.0, b'\\x89PNG')
    """

    def __init__(self, lane: str, n: int, channels: int, sr: int) -> None:
        _check_lane(lane)
        self.lane, self.n, self.channels = lane, int(n), int(channels)
        self._peaks = _PeakBins(self.n, PEAK_BINS)
        self._frames = _SpectrogramFrames(self.n, int(sr), self.channels)
        self._energy = 0.0
        self._seen = 0

    def add(self, x: np.ndarray, start: int) -> None:
        """One block ``(channels, m)`` of the lane, starting at sample ``start``."""
        from ..audio._measure import energy

        if start != self._seen:
            raise ValueError(f"blocks must come in order: got {start}, expected {self._seen}")
        self._seen += x.shape[1]
        self._peaks.add(x, start)
        self._frames.add(x, start)
        self._energy += energy(x)

    @property
    def level_db(self) -> float:
        """RMS level in dBFS of what went through so far, over the whole clip's length."""
        from ..audio._measure import level_db

        return level_db(self._energy, self.channels * self.n)

    def spectrogram_db(self) -> tuple[np.ndarray, np.ndarray]:
        """``(S_db, freqs)`` as :func:`camb_notebook.viz.spectrogram_db` gives them."""
        return self._frames.result()

    def visuals(self, *, scale: tuple[float, float]) -> LaneVisuals:
        """The lane's :class:`LaneVisuals` on the shared colour ``scale``."""
        from ..viz import spectrogram_png

        S_db, freqs = self.spectrogram_db()
        png = spectrogram_png(
            S_db,
            scale[0],
            scale[1],
            height=SPEC_HEIGHT,
            width=SPEC_WIDTH,
            freqs=freqs,
            log_freq=True,
        )
        env = np.ascontiguousarray(self._peaks.result(), dtype="<f4")
        return LaneVisuals(
            lane=self.lane, peaks=env.tobytes(), spectrogram=png, level_db=self.level_db
        )


def scale_of(original: LaneTap) -> tuple[float, float]:
    """The shared colour scale from the original's tap (see :func:`spectrogram_scale`)."""
    from ..viz import db_range

    return db_range(original.spectrogram_db()[0], dynamic_range=80.0)


def _taps(stems: Stems, lanes: tuple[str, ...]) -> dict[str, LaneTap]:
    taps = {lane: LaneTap(lane, stems.n_samples, stems.channels, stems.sr) for lane in lanes}
    for window in stems.blocks(PASS_BLOCK):
        for lane, tap in taps.items():
            tap.add(lane_window(window, lane), window.start)
    return taps


def spectrogram_scale(stems: Stems) -> tuple[float, float]:
    """The shared colour scale ``(vmin, vmax)`` of every lane: the original's loudest bin.

    Stems are never louder than the mix by much, so one scale taken from the
    original shows honest level differences between lanes. Computed in one pass over
    the stems in blocks (memory: one block).
    """
    return scale_of(_taps(stems, ("original",))["original"])


def prepare_visuals(stems: Stems, lane: str, *, scale: tuple[float, float]) -> LaneVisuals:
    """Waveform peaks, spectrogram image and level of one lane, in one pass over the stems.

    The stems are read in blocks of :data:`PASS_BLOCK` samples, so memory does not
    depend on the clip's length. The widget prepares every lane and the preview in one
    shared pass instead (:func:`camb_notebook.widget._prepare.prepare_lanes`).

    Parameters
    ----------
    stems : camb_notebook.audio.Stems
    lane : {"original", "foreground", "background", "residual"}
    scale : (float, float)
        Colour scale from :func:`spectrogram_scale`, shared by all lanes.

    Returns
    -------
    LaneVisuals

    Examples
    --------
    >>> # visuals = prepare_visuals(stems, "foreground", scale=spectrogram_scale(stems))
    """
    _check_lane(lane)
    return _taps(stems, (lane,))[lane].visuals(scale=scale)
