"""The rich notebook display of a separation result, without the widget.

``SeparationResult._repr_mimebundle_`` calls :func:`result_mimebundle`. The bundle
is what a saved notebook keeps, so it is bounded: the whole bundle stays within
:data:`MAX_DISPLAY_BYTES`, the figure within :data:`MAX_FIGURE_BYTES`, and audio
is embedded only as low-bitrate Ogg Opus previews when they fit what is left.
Never WAV. Longer clips show the figure, the file paths and a pointer to the widget.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from camb_notebook.viz._facts import stem_facts
from camb_notebook.viz._html import (
    audio_tag,
    b64_size,
    encode_previews,
    facts_table,
    figure_png,
    img_tag,
)
from camb_notebook.viz._plots import _STEM_NAMES, _lanes, plot_overview

__all__ = [
    "MAX_DISPLAY_BYTES",
    "MAX_FIGURE_BYTES",
    "PREVIEW_BITRATES",
    "result_mimebundle",
]

#: Upper bound of one displayed result in a saved notebook (all MIME parts, as stored).
MAX_DISPLAY_BYTES = 1_000_000
#: Upper bound of the static figure (PNG bytes, before base64).
MAX_FIGURE_BYTES = 120_000
#: Preview bitrates tried, best first; the best one that fits the remaining budget wins.
PREVIEW_BITRATES: tuple[int, ...] = (32_000, 24_000, 16_000)

_FIGURE_DPI = 72
# Room for the markup around the data URIs.
_HTML_SLACK = 8_000


def _paths(result: Any) -> list[tuple[str, str]]:
    rows = []
    for name in _STEM_NAMES:
        value = getattr(result, name, None)
        if isinstance(value, (str, Path)):
            rows.append((name, str(value)))
    return rows


def _title(result: Any) -> str:
    original = getattr(result, "original", None)
    if not isinstance(original, (str, Path)):
        return "Separated stems"
    name = Path(original).name
    bits = []
    method = getattr(result, "method", None)
    if method:
        bits.append(f"method {method}")
    if getattr(result, "reused", False):
        bits.append("reused")
    elif getattr(result, "elapsed", 0):
        bits.append(f"{result.elapsed:.1f} s")
    return f"{name} — separated" + (f" ({', '.join(bits)})" if bits else "")


def _plain(result: Any, facts: dict[str, Any]) -> str:
    lines = [_title(result), facts["line"]]
    lines += [f"  {name}: {path}" for name, path in _paths(result)]
    task_id = getattr(result, "task_id", None)
    if task_id:
        lines.append(f"  task_id: {task_id}")
    return "\n".join(lines)


def result_mimebundle(result: Any, *, max_bytes: int | None = None) -> dict[str, str]:
    """The rich display of a separation: summary text, a static figure, compact players.

    Parameters
    ----------
    result : SeparationResult or Stems
        Anything :func:`plot_waveforms` accepts; a result's file paths are listed.
    max_bytes : int or None
        Bound of the whole bundle; default :data:`MAX_DISPLAY_BYTES`.

    Returns
    -------
    dict
        ``text/plain`` (title, facts line, paths), ``image/png`` (base64 PNG of
        :func:`plot_overview`) and ``text/html`` (figure, facts table, one Opus player
        per stem when they fit the budget, else the paths and a hint to use
        :class:`camb_notebook.SeparationWidget`).

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> x = np.random.default_rng(0).uniform(-0.3, 0.3, (1, 16000)).astype(np.float32)
    >>> bundle = result_mimebundle(Stems(x, 0.5 * x, 0.5 * x, 16000))
    >>> sorted(bundle), bundle["text/html"].count("<audio")
    (['image/png', 'text/html', 'text/plain'], 3)
    """
    limit = MAX_DISPLAY_BYTES if max_bytes is None else int(max_bytes)
    stems = result.stems() if callable(getattr(result, "stems", None)) else result
    lanes, sr = _lanes(stems, None, residual=False)
    facts = stem_facts(stems)
    plain = _plain(result, facts)

    png = figure_png(plot_overview(stems, width=8.0), dpi=_FIGURE_DPI, max_bytes=MAX_FIGURE_BYTES)
    png_b64 = base64.b64encode(png).decode("ascii")
    # The PNG is stored twice: as image/png and inside the HTML.
    used = len(plain) + 2 * len(png_b64) + len(facts_table(facts)) + _HTML_SLACK
    budget = max(0, (limit - used) * 3 // 4)  # raw Opus bytes that fit once base64-encoded
    previews, bitrate = encode_previews(lanes, sr, budget=budget, bitrates=PREVIEW_BITRATES)

    title = html.escape(_title(result))
    parts = [
        '<div class="camb-result" style="font-family:system-ui,sans-serif;max-width:820px">',
        f'<div style="font-weight:600;margin-bottom:4px">{title}</div>',
        img_tag(png, "Waveforms and spectrograms of the original, foreground and background"),
    ]
    paths = dict(_paths(result))
    if previews:
        rows = "".join(
            f'<tr><td style="padding:2px 8px 2px 0">{html.escape(name)}</td>'
            f"<td style='width:100%'>{audio_tag(name, opus)}</td>"
            f"<td style='padding-left:8px;font-size:85%'><code>"
            f"{html.escape(Path(paths[name]).name) if name in paths else ''}</code></td></tr>"
            for name, opus in previews.items()
        )
        parts.append(f'<table class="camb-players" style="width:100%">{rows}</table>')
        parts.append(
            f'<div style="font-size:85%;color:#666">Previews: Ogg Opus {bitrate // 1000} kb/s. '
            "Full-quality stems are in the files.</div>"
        )
    else:
        needed = sum(b64_size(int(facts["duration"] * PREVIEW_BITRATES[-1] / 8)) for _ in lanes)
        parts.append(
            '<div class="camb-no-audio" style="margin:6px 0">'
            f"Players left out: previews of this {facts['line'].split(' · ')[0]} clip "
            f"(about {needed // 1000} kB) would exceed this display's limit of "
            f"{limit // 1000} kB, which keeps saved notebooks small. "
            "Listen with <code>camb_notebook.SeparationWidget()</code> "
            "(<code>w.add_file(path)</code>) or <code>IPython.display.Audio(path)</code>.</div>"
        )
        if paths:
            items = "".join(
                f"<li>{html.escape(name)}: <code>{html.escape(p)}</code></li>"
                for name, p in paths.items()
            )
            parts.append(f"<ul style='margin:2px 0'>{items}</ul>")
    parts.append(facts_table(facts))
    parts.append("</div>")
    return {
        "text/plain": plain,
        "image/png": png_b64,
        "text/html": "".join(parts),
    }
