"""Compact audio players for arrays: a labelled row of Ogg Opus players, bounded in size.

What a notebook cell shows is saved with the notebook, so the players are low-bitrate
Ogg Opus (never WAV) and the whole display stays under a byte limit that the caller can
see and change.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np

from .._exceptions import InputError, LimitExceededError
from ..audio import Stems
from ._facts import format_duration
from ._features import as_channels
from ._html import (
    MAX_DISPLAY_BYTES,
    PREVIEW_BITRATES,
    audio_tag,
    b64_size,
    encode_previews,
    estimate_preview_bytes,
)
from ._lanes import stem_lanes

__all__ = ["MAX_PLAYERS_BYTES", "Players", "players"]

#: Default upper bound of one :func:`players` display (HTML as stored in the notebook).
MAX_PLAYERS_BYTES = MAX_DISPLAY_BYTES

# Markup around each data URI (row, label, attributes) and around the table.
_ROW_SLACK = 600
_TABLE_SLACK = 600


class Players:
    """A row of labelled Ogg Opus players; shows itself as HTML in a notebook.

    Made by :func:`players`. The HTML is self-contained (data URIs), so a saved
    notebook or an exported page plays it anywhere.

    Attributes
    ----------
    html : str
        The ``<table>`` of players.
    names : tuple of str
        Label of each player, in order.
    bitrate : int
        Opus bitrate used for every player, bit/s.

    Examples
    --------
    >>> import numpy as np
    >>> row = players({"tone": np.zeros((2, 4800), np.float32)}, sr=48000)
    >>> row.names, row.nbytes < 20_000
    (('tone',), True)
    """

    def __init__(self, html: str, names: Sequence[str], bitrate: int) -> None:
        self.html = html
        self.names = tuple(names)
        self.bitrate = int(bitrate)

    @property
    def nbytes(self) -> int:
        """Size of the HTML in bytes: what the display adds to a saved notebook."""
        return len(self.html.encode("utf-8"))

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return (
            f"Players({', '.join(self.names)}; Ogg Opus {self.bitrate // 1000} kb/s, "
            f"{self.nbytes / 1000:.0f} kB)"
        )


def _clips(
    audio: object, sr: float | None, residual: bool
) -> tuple[list[tuple[str, np.ndarray]], float]:
    """The labelled clips to play and their rate, or an error saying what players takes."""
    if isinstance(audio, Stems):
        if sr is not None and sr != audio.sr:
            raise InputError(f"sr={sr!r}, but the stems are at {audio.sr} Hz; leave sr out")
        return stem_lanes(audio, residual=residual), float(audio.sr)
    if residual:
        raise InputError(
            "residual=True plays original − foreground − background, so it needs "
            f"camb_notebook.audio.Stems, got {type(audio).__name__}"
        )
    if isinstance(audio, Mapping):
        clips = [(str(name), as_channels(x, str(name))) for name, x in audio.items()]
    elif isinstance(audio, np.ndarray):
        clips = [("audio", as_channels(audio))]
    else:
        raise InputError(
            "players() takes camb_notebook.audio.Stems, a dict of name -> array or one array, "
            f"got {type(audio).__name__}; for a separation result pass result.stems()"
        )
    if not clips:
        raise InputError("the dict of clips is empty; nothing to play")
    if sr is None or not sr > 0:
        raise InputError(f"sr={sr!r}: pass the sample rate in Hz with plain arrays")
    return clips, float(sr)


def players(
    audio: Stems | Mapping[str, np.ndarray] | np.ndarray,
    sr: float | None = None,
    *,
    residual: bool = False,
    max_bytes: int = MAX_PLAYERS_BYTES,
    bitrates: Sequence[int] = PREVIEW_BITRATES,
    title: str | None = None,
) -> Players:
    """Compact players for one or several clips, labelled, within *max_bytes*.

    Parameters
    ----------
    audio : Stems, dict of str to np.ndarray, or np.ndarray [shape=(channels, n) or (n,)]
        What to play: the original and its stems (``result.stems()`` for a separation
        result), labelled clips (``{"mixture": x, "voice": fg}``; they may differ in
        length), or one clip (labelled ``audio``).
    sr : float or None
        Sample rate of arrays in Hz (Stems carry their own).
    residual : bool
        Also play ``stems.residual`` (original − foreground − background); Stems only.
    max_bytes : int
        Upper bound of the whole display in bytes, as stored in a saved notebook.
    bitrates : sequence of int
        Opus bitrates to try, best first (bit/s); the best one that fits is used for all.
    title : str or None
        A caption above the players.

    Returns
    -------
    Players
        Shows as HTML in a notebook; ``.html``, ``.bitrate``, ``.nbytes``.

    Raises
    ------
    InputError
        A clip is empty, the rate is missing, or even the lowest bitrate does not
        fit *max_bytes*.

    See Also
    --------
    result_mimebundle : the display of a separation result, players included.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(16000) / 16000
    >>> tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    >>> p = players({"tone": tone, "quieter": 0.5 * tone}, sr=16000)
    >>> p.names, p.bitrate, p.html.count("<audio")
    (('tone', 'quieter'), 32000, 2)
    """
    lanes, rate = _clips(audio, sr, residual)
    for name, x in lanes:
        if x.shape[-1] == 0:
            raise InputError(
                f"{name!r} has no samples; nothing to play", parameter="audio", value=name
            )
    if not bitrates:
        raise InputError("bitrates is empty; pass at least one Opus bitrate, e.g. (32000,)")
    caption = (
        f'<caption style="text-align:left;font-weight:600">{html.escape(title)}</caption>'
        if title
        else ""
    )
    room = int(max_bytes) - _TABLE_SLACK - len(caption) - _ROW_SLACK * len(lanes)
    budget = max(0, room * 3 // 4)  # raw Opus bytes that fit once base64-encoded
    previews, bitrate = encode_previews(lanes, rate, budget=budget, bitrates=bitrates)
    if bitrate is None:
        seconds = sum(x.shape[-1] for _, x in lanes) / rate
        lowest = min(bitrates)
        need = sum(b64_size(estimate_preview_bytes(x.shape[-1] / rate, lowest)) for _, x in lanes)
        raise LimitExceededError(
            f"{len(lanes)} clip(s), {seconds:.1f} s in all, need about {need // 1000} kB as Ogg "
            f"Opus at {lowest // 1000} kb/s, over max_bytes={max_bytes}; play a shorter excerpt "
            "(e.g. x[:, : 20 * sr]) or fewer clips, or raise max_bytes (the saved notebook grows "
            "by that much)",
            actual=need,
            limit=max_bytes,
        )
    rows = "".join(
        '<tr><td style="padding:2px 10px 2px 0;white-space:nowrap">'
        f"{html.escape(name)}"
        f'<span style="color:#888;font-size:85%"> · {format_duration(x.shape[-1] / rate)}'
        f'</span></td><td style="width:100%">{audio_tag(name, previews[name])}</td></tr>'
        for name, x in lanes
    )
    table = (
        '<table class="camb-players" style="width:100%;max-width:820px;'
        f'font-family:system-ui,sans-serif">{caption}{rows}</table>'
    )
    return Players(table, [name for name, _ in lanes], bitrate)
