"""The facts of one separation in words: duration, rate, channels, stem levels, residual."""

from __future__ import annotations

from typing import Any

from camb_notebook.viz._plots import _lanes

__all__ = ["format_duration", "stem_facts"]

#: Levels at or below this read "silent" (``rms_db``'s floor is -120 dBFS).
_SILENT_DB = -120.0


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


def _level(db: float) -> str:
    return "silent" if db <= _SILENT_DB else f"{db:.1f} dBFS".replace("-", "−")


def stem_facts(stems: Any, sr: float | None = None) -> dict[str, Any]:
    """Duration, rate, channels and the RMS level of every stem and of the residual.

    Parameters
    ----------
    stems : Stems, separation result, or (original, foreground, background)
    sr : float or None
        Sample rate, when ``stems`` does not carry one.

    Returns
    -------
    dict
        ``duration`` (s), ``sample_rate`` (Hz), ``channels``, ``levels`` (dBFS RMS per
        lane, residual included), ``residual_re_original`` (dB; very negative when the
        stems sum back to the original), and ``line``: all of it as one sentence.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.full((2, 8000), 0.5, np.float32)
    >>> facts = stem_facts((x, 0.5 * x, 0.5 * x), sr=8000)
    >>> facts["line"].split(" · ")[:4]
    ['1.0 s', '8000 Hz', 'stereo', 'original −6.0 dBFS']
    >>> round(facts["levels"]["foreground"], 1), facts["line"].split(" · ")[-1]
    (-12.0, 'residual silent')
    """
    from camb_notebook.audio import rms_db

    lanes, sr = _lanes(stems, sr, residual=True)
    arrays = dict(lanes)
    levels = {name: rms_db(x) for name, x in lanes}
    channels = int(arrays["original"].shape[0])
    duration = arrays["original"].shape[1] / sr
    relative = levels["residual"] - levels["original"]
    layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels} channels")
    parts = [format_duration(duration), f"{sr:g} Hz", layout]
    parts += [f"{name} {_level(db)}" for name, db in levels.items()]
    if levels["residual"] > _SILENT_DB and levels["original"] > _SILENT_DB:
        parts[-1] += f" ({relative:.1f} dB re original)".replace("-", "−")
    return {
        "duration": duration,
        "sample_rate": sr,
        "channels": channels,
        "levels": levels,
        "residual_re_original": relative,
        "line": " · ".join(parts),
    }
