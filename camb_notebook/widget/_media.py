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
    from ..audio import Stems

__all__ = [
    "BROWSER_BUDGET_BYTES",
    "PEAK_BINS",
    "SILENT_DB",
    "SPEC_HEIGHT",
    "SPEC_WIDTH",
    "LaneVisuals",
    "lane_audio",
    "prepare_visuals",
    "preview_bitrate",
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


def lane_audio(stems: Stems, lane: str) -> np.ndarray:
    """The samples of one lane (the residual is computed)."""
    if lane not in LANES:
        from .._exceptions import InputError

        raise InputError(
            f"lane={lane!r} is not one of {', '.join(LANES)}", parameter="lane", value=lane
        )
    return stems.residual if lane == "residual" else getattr(stems, lane)


def _spectrogram(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    from ..viz import spectrogram_db

    S_db, _, freqs = spectrogram_db(audio, sr, n_fft=2048, max_frames=_SPEC_FRAMES)
    return S_db, freqs


def spectrogram_scale(stems: Stems) -> tuple[float, float]:
    """The shared colour scale ``(vmin, vmax)`` of every lane: the original's loudest bin.

    Stems are never louder than the mix by much, so one scale taken from the
    original shows honest level differences between lanes.
    """
    from ..viz import db_range

    return db_range(_spectrogram(stems.original, stems.sr)[0], dynamic_range=80.0)


def prepare_visuals(stems: Stems, lane: str, *, scale: tuple[float, float]) -> LaneVisuals:
    """Waveform peaks, spectrogram image and level of one lane.

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
    from ..audio import rms_db
    from ..viz import peaks, spectrogram_png

    audio = lane_audio(stems, lane)
    S_db, freqs = _spectrogram(audio, stems.sr)
    png = spectrogram_png(
        S_db,
        scale[0],
        scale[1],
        height=SPEC_HEIGHT,
        width=SPEC_WIDTH,
        freqs=freqs,
        log_freq=True,
    )
    env = np.ascontiguousarray(peaks(audio, PEAK_BINS), dtype="<f4")
    return LaneVisuals(
        lane=lane, peaks=env.tobytes(), spectrogram=png, level_db=float(rms_db(audio))
    )
