"""HTML pieces shared by the rich display and the report: images, players, facts.

Everything is inline (data URIs): nothing refers to the network or to local files,
so a saved notebook or a report opens anywhere. Audio is only ever Ogg Opus.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from camb_notebook._exceptions import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: MIME type of every embedded preview (Ogg Opus plays in all current browsers).
PREVIEW_MIME = "audio/ogg; codecs=opus"

# Ogg pages and Opus headers cost a little over the nominal bitrate.
_CONTAINER_OVERHEAD = 1.05
_HEADER_BYTES = 2048


def figure_png(fig: Figure, *, dpi: float, max_bytes: int | None = None) -> bytes:
    """Render *fig* as a compact PNG (adaptive 256-colour palette), within *max_bytes*.

    Figures of spectrograms compress poorly as RGBA; a palette keeps them small
    with no visible loss. If the picture is still too large it is re-rendered at
    lower resolutions down to 40 % of *dpi*.
    """
    from PIL import Image

    scale = 1.0
    while True:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi * scale, facecolor="white")
        image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
        out = io.BytesIO()
        image.quantize(colors=256).save(out, format="PNG", optimize=True)
        png = out.getvalue()
        if max_bytes is None or len(png) <= max_bytes:
            return png
        if scale <= 0.4:
            raise InputError(
                f"the figure needs {len(png)} bytes even at {dpi * scale:.0f} dpi, over the "
                f"limit of {max_bytes} bytes; make it smaller (fewer lanes, smaller width)",
                size=len(png),
                limit=max_bytes,
            )
        scale *= 0.8


def data_uri(mime: str, data: bytes) -> str:
    """``data:<mime>;base64,...`` for *data*."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def b64_size(n: int) -> int:
    """Length of *n* bytes once base64-encoded."""
    return 4 * ((n + 2) // 3)


def estimate_preview_bytes(duration: float, bitrate: int) -> int:
    """Expected size of one Opus preview of *duration* seconds at *bitrate* bit/s."""
    return int(duration * bitrate / 8 * _CONTAINER_OVERHEAD) + _HEADER_BYTES


def encode_previews(
    lanes: Sequence[tuple[str, Any]],
    sr: float,
    *,
    budget: int,
    bitrates: Sequence[int],
) -> tuple[dict[str, bytes], int | None]:
    """Opus previews of every lane at the best bitrate whose total fits *budget* bytes.

    Bitrates are tried best first; a bitrate is only encoded when its estimate fits,
    so a clip too long for any of them costs no encoding time. Returns the previews
    and the bitrate used, or ``({}, None)`` when nothing fits.
    """
    from camb_notebook.audio import encode_preview

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
    return (
        f'<img src="{data_uri("image/png", png)}" alt="{html.escape(alt)}" '
        f'style="max-width:{max_width};height:auto;display:block">'
    )


def audio_tag(name: str, opus: bytes) -> str:
    # preload="metadata": the browser reads the duration without decoding everything.
    return (
        f'<audio controls preload="metadata" aria-label="{html.escape(name)}" '
        f'style="height:32px;width:100%;min-width:220px">'
        f'<source src="{data_uri(PREVIEW_MIME, opus)}" type="{PREVIEW_MIME}"></audio>'
    )


def facts_table(facts: dict[str, Any], extra: Sequence[tuple[str, str]] = ()) -> str:
    """A two-column table of the clip's facts (from :func:`stem_facts`) plus *extra* rows."""
    from camb_notebook.viz._facts import _level, format_duration

    rows = [
        ("Duration", format_duration(facts["duration"])),
        ("Sample rate", f"{facts['sample_rate']:g} Hz"),
        ("Channels", str(facts["channels"])),
    ]
    for name, db in facts["levels"].items():
        rows.append((f"Level of {name}", _level(db)))
    if facts["levels"]["residual"] > -120.0:
        rel = f"{facts['residual_re_original']:.1f} dB".replace("-", "−")
        rows.append(("Residual re original", rel))
    rows += list(extra)
    body = "".join(
        f'<tr><th style="text-align:left;padding:2px 12px 2px 0;font-weight:600">'
        f"{html.escape(k)}</th><td style='padding:2px 0'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f'<table class="camb-facts" style="border-collapse:collapse">{body}</table>'
