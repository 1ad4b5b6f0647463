"""What one lane of the player needs in the browser: a preview, waveform peaks, a spectrogram.

Everything is prepared in the kernel once per clip and sent as binary buffers;
the browser never decodes the full-quality stems. The preview bitrate is chosen
from the clip's duration so that all four lanes of a 10-minute clip (original,
foreground, background and the on-demand residual) stay under
:data:`BROWSER_BUDGET_BYTES` together.
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
    "LaneMedia",
    "prepare_lane",
    "preview_bitrate",
    "spectrogram_scale",
]

#: Bytes a 10-minute clip may send to the browser, all lanes together.
BROWSER_BUDGET_BYTES = 15_000_000
#: Part of the budget left for previews; the rest covers peaks, images and overhead.
_AUDIO_BUDGET_BYTES = 13_000_000
_MIN_BITRATE = 16_000
_MAX_BITRATE = 96_000
_BITRATE_STEP = 8_000

#: Waveform and spectrogram resolution: about one column per pixel of a wide cell.
PEAK_BINS = 1200
SPEC_WIDTH = 1200
SPEC_HEIGHT = 112
_SPEC_FRAMES = 2400


@dataclass(frozen=True)
class LaneMedia:
    """Bytes for one lane of one clip.

    Attributes
    ----------
    lane : str
        ``original``, ``foreground``, ``background`` or ``residual``.
    audio : bytes
        Ogg Opus preview.
    peaks : bytes
        float32 ``(2, n_bins)`` min/max envelope, row-major.
    spectrogram : bytes
        PNG image, time left to right, low frequencies at the bottom.
    bitrate : int
        Preview bits per second.
    level_db : float
        RMS level of the full-quality lane in dBFS.
    """

    lane: str
    audio: bytes
    peaks: bytes
    spectrogram: bytes
    bitrate: int
    level_db: float

    @property
    def nbytes(self) -> int:
        """Bytes this lane sends to a browser."""
        return len(self.audio) + len(self.peaks) + len(self.spectrogram)


def preview_bitrate(duration: float, lanes: int = len(LANES)) -> int:
    """Opus bitrate in bit/s so that ``lanes`` previews of ``duration`` s fit the budget.

    Short clips get up to 96 kb/s; a 10-minute clip gets 40 kb/s per lane; very long
    clips never drop below 16 kb/s (their previews then exceed the budget).

    Examples
    --------
    >>> preview_bitrate(30.0), preview_bitrate(600.0)
    (96000, 40000)
    """
    if duration <= 0:
        return _MAX_BITRATE
    fitting = _AUDIO_BUDGET_BYTES * 8 / (lanes * duration)
    stepped = int(fitting // _BITRATE_STEP) * _BITRATE_STEP
    return max(_MIN_BITRATE, min(_MAX_BITRATE, stepped))


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


def prepare_lane(
    stems: Stems,
    lane: str,
    *,
    scale: tuple[float, float],
    bitrate: int | None = None,
) -> LaneMedia:
    """Prepare the preview, peaks and spectrogram image of one lane.

    Parameters
    ----------
    stems : camb_notebook.audio.Stems
    lane : {"original", "foreground", "background", "residual"}
    scale : (float, float)
        Colour scale from :func:`spectrogram_scale`, shared by all lanes.
    bitrate : int, optional
        Preview bitrate; default :func:`preview_bitrate` of the clip's duration.

    Returns
    -------
    LaneMedia

    Examples
    --------
    >>> # media = prepare_lane(result.stems(), "foreground", scale=spectrogram_scale(stems))
    """
    from ..audio import encode_preview, rms_db
    from ..viz import peaks, spectrogram_png

    if lane not in LANES:
        from .._exceptions import InputError

        raise InputError(
            f"lane={lane!r} is not one of {', '.join(LANES)}", parameter="lane", value=lane
        )
    audio = stems.residual if lane == "residual" else getattr(stems, lane)
    rate = bitrate or preview_bitrate(stems.duration)
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
    return LaneMedia(
        lane=lane,
        audio=encode_preview(audio, stems.sr, bitrate=rate),
        peaks=env.tobytes(),
        spectrogram=png,
        bitrate=rate,
        level_db=float(rms_db(audio)),
    )
