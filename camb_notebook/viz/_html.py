"""HTML pieces shared by the rich display, the players and the report, and their byte budgets.

Everything is inline (data URIs): nothing refers to the network or to local files,
so a saved notebook or a report opens anywhere. Audio is only ever Ogg Opus.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

import numpy as np

from ..audio import encode_preview
from ._facts import SILENT_DB, StemFacts, format_duration, format_level

__all__ = [
    "MAX_DISPLAY_BYTES",
    "PREVIEW_BITRATES",
    "PREVIEW_MIME",
    "audio_tag",
    "b64_size",
    "data_uri",
    "encode_previews",
    "estimate_preview_bytes",
    "facts_table",
    "img_tag",
]

#: Upper bound of one displayed result in a saved notebook (all MIME parts, as stored).
MAX_DISPLAY_BYTES = 1_000_000
#: Preview bitrates tried, best first; the best one that fits the remaining budget wins.
PREVIEW_BITRATES: tuple[int, ...] = (32_000, 24_000, 16_000)
#: MIME type of every embedded preview (Ogg Opus plays in all current browsers).
PREVIEW_MIME = "audio/ogg; codecs=opus"

# Ogg pages and Opus headers cost a little over the nominal bitrate.
_CONTAINER_OVERHEAD = 1.05
_HEADER_BYTES = 2048


def data_uri(mime: str, data: bytes) -> str:
    """``data:<mime>;base64,...`` for *data*.

    Examples
    --------
    >>> data_uri("text/plain", b"hi")
    'data:text/plain;base64,aGk='
    """
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def b64_size(n: int) -> int:
    """Length of *n* bytes once base64-encoded.

    Examples
    --------
    >>> b64_size(2), b64_size(3), b64_size(4)
    (4, 4, 8)
    """
    return 4 * ((n + 2) // 3)


def estimate_preview_bytes(duration: float, bitrate: int) -> int:
    """Expected size of one Opus preview of *duration* seconds at *bitrate* bit/s.

    Examples
    --------
    >>> estimate_preview_bytes(10.0, 16_000)
    23048
    """
    return int(duration * bitrate / 8 * _CONTAINER_OVERHEAD) + _HEADER_BYTES


def encode_previews(
    lanes: Sequence[tuple[str, np.ndarray]],
    sr: float,
    *,
    budget: int,
    bitrates: Sequence[int],
) -> tuple[dict[str, bytes], int | None]:
    """Ogg Opus previews of every lane at the best bitrate whose total fits *budget* bytes.

    Bitrates are tried best first; a bitrate is only encoded when its estimate fits,
    so a clip too long for any of them costs no encoding time.

    Parameters
    ----------
    lanes : sequence of (str, np.ndarray [shape=(channels, n)])
        Name and samples of each clip, all of one length (e.g. ``stems.items()``).
    sr : float
        Sample rate in Hz.
    budget : int
        Upper bound of all previews together, in raw (not base64) bytes.
    bitrates : sequence of int
        Opus bitrates to try, best first, in bit/s (e.g. :data:`PREVIEW_BITRATES`).

    Returns
    -------
    previews : dict of str to bytes
        One Ogg Opus file per lane, in order; empty when nothing fits.
    bitrate : int or None
        The bitrate used, or ``None`` when nothing fits.

    See Also
    --------
    audio_tag : a player for one preview.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((1, 16000), np.float32)
    >>> previews, bitrate = encode_previews([("silence", x)], 16000, budget=50_000,
    ...                                     bitrates=(32_000, 16_000))
    >>> list(previews), bitrate, previews["silence"][:4]
    (['silence'], 32000, b'OggS')
    >>> encode_previews([("silence", x)], 16000, budget=100, bitrates=(16_000,))
    ({}, None)
    """
    if not lanes:
        return {}, None
    duration = lanes[0][1].shape[-1] / sr
    for bitrate in bitrates:
        if estimate_preview_bytes(duration, bitrate) * len(lanes) > budget:
            continue
        previews = {name: encode_preview(x, int(sr), bitrate=bitrate) for name, x in lanes}
        if sum(len(p) for p in previews.values()) <= budget:
            return previews, bitrate
    return {}, None


def img_tag(png: bytes, alt: str, *, max_width: str = "100%") -> str:
    """An ``<img>`` showing *png* from a data URI, scaled down to fit its container.

    Parameters
    ----------
    png : bytes
        A PNG file, e.g. from :func:`figure_png`.
    alt : str
        Text alternative (escaped).
    max_width : str
        CSS ``max-width`` of the image.

    Returns
    -------
    str

    Examples
    --------
    >>> img_tag(b"\\x89PNG", "A <figure>").split(" style=")[0]
    '<img src="data:image/png;base64,iVBORw==" alt="A &lt;figure&gt;"'
    """
    return (
        f'<img src="{data_uri("image/png", png)}" alt="{html.escape(alt)}" '
        f'style="max-width:{max_width};height:auto;display:block">'
    )


def audio_tag(name: str, opus: bytes) -> str:
    """An ``<audio>`` player labelled *name* for one Ogg Opus preview, from a data URI.

    Parameters
    ----------
    name : str
        Label for screen readers (``aria-label``, escaped).
    opus : bytes
        An Ogg Opus file, e.g. from :func:`encode_previews`.

    Returns
    -------
    str

    Examples
    --------
    >>> tag = audio_tag("foreground", b"OggS")
    >>> tag.startswith('<audio controls preload="metadata" aria-label="foreground"')
    True
    >>> 'type="audio/ogg; codecs=opus"' in tag
    True
    """
    # preload="metadata": the browser reads the duration without decoding everything.
    return (
        f'<audio controls preload="metadata" aria-label="{html.escape(name)}" '
        f'style="height:32px;width:100%;min-width:220px">'
        f'<source src="{data_uri(PREVIEW_MIME, opus)}" type="{PREVIEW_MIME}"></audio>'
    )


def facts_table(facts: StemFacts, extra: Sequence[tuple[str, str]] = ()) -> str:
    """A two-column HTML table of a clip's facts plus *extra* rows.

    Parameters
    ----------
    facts : StemFacts
        From :func:`stem_facts`.
    extra : sequence of (str, str)
        More (label, value) rows at the end, e.g. ``[("Method", "repet")]`` (escaped).

    Returns
    -------
    str
        A ``<table class="camb-facts">``.

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> from camb_notebook.viz import stem_facts
    >>> x = np.full((1, 800), 0.5, np.float32)
    >>> table = facts_table(stem_facts(Stems(x, x, 0 * x, 8000)), [("Method", "repet")])
    >>> table.count("<tr>"), "Level of background</th><td style='padding:2px 0'>silent" in table
    (8, True)
    """
    rows = [
        ("Duration", format_duration(facts["duration"])),
        ("Sample rate", f"{facts['sample_rate']:g} Hz"),
        ("Channels", str(facts["channels"])),
    ]
    for name, db in facts["levels"].items():
        rows.append((f"Level of {name}", format_level(db)))
    if facts["levels"]["residual"] > SILENT_DB:
        rel = f"{facts['residual_re_original']:.1f} dB".replace("-", "−")
        rows.append(("Residual re original", rel))
    rows += list(extra)
    body = "".join(
        f'<tr><th style="text-align:left;padding:2px 12px 2px 0;font-weight:600">'
        f"{html.escape(k)}</th><td style='padding:2px 0'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f'<table class="camb-facts" style="border-collapse:collapse">{body}</table>'
