"""The facts of one separation in words: duration, rate, channels, stem levels, residual."""

from __future__ import annotations

from typing import TypedDict

from ..audio import Stems
from ._lanes import require_stems

__all__ = ["SILENT_DB", "StemFacts", "format_duration", "format_level", "stem_facts"]

#: Levels at or below this read "silent" (``rms_db``'s floor is -120 dBFS).
SILENT_DB = -120.0


class StemFacts(TypedDict):
    """What :func:`stem_facts` returns: the numbers, and all of them as one line.

    Attributes
    ----------
    duration : float
        Seconds.
    sample_rate : float
        Hz.
    channels : int
    levels : dict of str to float
        RMS level in dBFS of ``original``, ``foreground``, ``background`` and
        ``residual`` (from :meth:`camb_notebook.audio.Stems.levels`).
    residual_re_original : float
        Residual level relative to the original in dB; very negative when the
        stems sum back to the original.
    line : str
        All of it as one sentence, e.g.
        ``"1.0 s · 8000 Hz · stereo · original −6.0 dBFS · … · residual silent"``.

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> x = np.full((1, 800), 0.5, np.float32)
    >>> facts: StemFacts = stem_facts(Stems(x, x, 0 * x, 8000))
    >>> facts["channels"], facts["levels"]["background"]
    (1, -120.0)
    """

    duration: float
    sample_rate: float
    channels: int
    levels: dict[str, float]
    residual_re_original: float
    line: str


def format_duration(seconds: float) -> str:
    """``"8.0 s"`` below a minute, ``"3:25.4"`` from a minute, ``"1:02:03"`` from an hour.

    Examples
    --------
    >>> format_duration(8.04), format_duration(205.44), format_duration(3723.0)
    ('8.0 s', '3:25.4', '1:02:03')
    """
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{int(minutes)}:{rest:04.1f}"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def format_level(db: float) -> str:
    """``"−12.0 dBFS"`` (typographic minus), or ``"silent"`` at the -120 dBFS floor.

    Examples
    --------
    >>> format_level(-12.04), format_level(-120.0)
    ('−12.0 dBFS', 'silent')
    """
    return "silent" if db <= SILENT_DB else f"{db:.1f} dBFS".replace("-", "−")


def stem_facts(stems: Stems) -> StemFacts:
    """Duration, rate, channels and the RMS level of every stem and of the residual.

    Parameters
    ----------
    stems : Stems
        The clip and its stems (``result.stems()`` for a separation result).

    Returns
    -------
    StemFacts
        ``duration`` (s), ``sample_rate`` (Hz), ``channels``, ``levels`` (dBFS RMS per
        lane, residual included), ``residual_re_original`` (dB; very negative when the
        stems sum back to the original), and ``line``: all of it as one sentence.

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> x = np.full((2, 8000), 0.5, np.float32)
    >>> facts = stem_facts(Stems(x, 0.5 * x, 0.5 * x, 8000))
    >>> facts["line"].split(" · ")[:4]
    ['1.0 s', '8000 Hz', 'stereo', 'original −6.0 dBFS']
    >>> round(facts["levels"]["foreground"], 1), facts["line"].split(" · ")[-1]
    (-12.0, 'residual silent')
    """
    stems = require_stems(stems, "stem_facts")
    levels = stems.levels()
    sr = float(stems.sr)
    relative = levels["residual"] - levels["original"]
    layout = {1: "mono", 2: "stereo"}.get(stems.channels, f"{stems.channels} channels")
    parts = [format_duration(stems.duration), f"{sr:g} Hz", layout]
    parts += [f"{name} {format_level(db)}" for name, db in levels.items()]
    if levels["residual"] > SILENT_DB and levels["original"] > SILENT_DB:
        parts[-1] += f" ({relative:.1f} dB re original)".replace("-", "−")
    return {
        "duration": stems.duration,
        "sample_rate": sr,
        "channels": stems.channels,
        "levels": levels,
        "residual_re_original": relative,
        "line": " · ".join(parts),
    }
