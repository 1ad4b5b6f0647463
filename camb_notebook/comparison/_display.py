"""Pictures, players and pages of a comparison, built from viz's and report's pieces.

Figures and previews need the samples themselves, so they read a window of the clip (at
most :data:`DISPLAY_SECONDS` in a notebook, :data:`REPORT_SECONDS` in a report, mono): a
long clip's comparison does not load every run whole. The scores cover the whole clip.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..report import html_page, players_section, report_path, save_page
from ..viz import (
    MAX_DISPLAY_BYTES,
    PREVIEW_BITRATES,
    encode_previews,
    figure_png,
    format_duration,
    img_tag,
    plot_difference,
    plot_lanes,
)
from ._runs import Run

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["DISPLAY_SECONDS", "REPORT_SECONDS", "Window", "lanes", "metrics_html"]

#: The stretch of the clip a notebook display draws and plays (from the start).
DISPLAY_SECONDS = 60.0
#: The stretch a report draws and plays.
REPORT_SECONDS = 300.0
_FIGURE_BYTES = 200_000


class Window:
    """A stretch ``[start, start + seconds)`` of the clip, as mono lanes of every run.

    Examples
    --------
    >>> Window(0.0, 60.0).describe(90.0)
    'the first 1:00.0 of 1:30.0'
    """

    def __init__(self, start: float, seconds: float | None) -> None:
        self.start, self.seconds = float(start), seconds

    def bounds(self, duration: float) -> tuple[float, float]:
        stop = duration if self.seconds is None else min(duration, self.start + self.seconds)
        return min(self.start, duration), stop

    def describe(self, duration: float) -> str:
        a, b = self.bounds(duration)
        if a == 0 and b >= duration:
            return f"all {format_duration(duration)}"
        if a == 0:
            return f"the first {format_duration(b)} of {format_duration(duration)}"
        return f"{format_duration(a)} to {format_duration(b)} of {format_duration(duration)}"


def lanes(runs: Sequence[Run], window: Window) -> tuple[list[tuple[str, np.ndarray]], int]:
    """``[("original", x), ("<run> foreground", …), ("<run> background", …), …]`` over the
    window, mono, and the sample rate.

    Examples
    --------
    >>> # lanes(comparison.runs, Window(0, 10))
    """
    stems = runs[0].stems()
    a, b = window.bounds(stems.duration)
    w = stems.read(a, b, unit="seconds")
    out = [("original", w.original.mean(axis=0, keepdims=True))]
    for run in runs:
        rw = run.stems().read(a, b, unit="seconds")
        out.append((f"{run.label} foreground", rw.foreground.mean(axis=0, keepdims=True)))
        out.append((f"{run.label} background", rw.background.mean(axis=0, keepdims=True)))
    return out, stems.sr


def figures(
    runs: Sequence[Run], window: Window, *, width: float = 8.0
) -> list[tuple[str, str, Figure]]:
    """The comparison's figures: every run on one time axis and colour scale, then the
    difference of each other run's foreground from the first run's."""
    named, sr = lanes(runs, window)
    out = [
        (
            "Every run on one time axis",
            "Waveforms over spectrograms: the original, then each run's foreground and "
            "background, on one dB colour scale",
            plot_lanes(named, sr, width=width),
        )
    ]
    fg = {name[: -len(" foreground")]: x for name, x in named if name.endswith(" foreground")}
    first = runs[0].label
    for run in runs[1:]:
        out.append(
            (
                f"Foreground: {first} − {run.label}",
                f"Spectrogram of {first}'s foreground minus {run.label}'s, in dB",
                plot_difference(
                    fg[first],
                    fg[run.label],
                    sr,
                    labels=(first, run.label),
                    title=f"Foreground: {first} − {run.label} (red: louder in {first})",
                ),
            )
        )
    return out


def metrics_html(metrics: pd.DataFrame, caption: str = "") -> str:
    """A DataFrame of scores as a small HTML table (values to 0.1 dB).

    Examples
    --------
    >>> import pandas as pd
    >>> metrics_html(pd.DataFrame({"sdr_foreground_db": [7.25]}, index=["repet"]))[:21]
    '<table class="metrics'
    """
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    # Underscores to spaces: long measure names wrap instead of widening the page.
    names = [metrics.index.name or "", *metrics]
    head = "".join(f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in names)
    body = "".join(
        "<tr>"
        + f"<td>{html.escape(str(label))}</td>"
        + "".join(f"<td>{'' if np.isnan(v) else f'{v:.1f}'}</td>" for v in row)
        + "</tr>"
        for label, row in zip(metrics.index, metrics.to_numpy(dtype=float), strict=True)
    )
    return (
        '<table class="metrics" style="border-collapse:collapse">'
        f"{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _runs_html(runs: Sequence[Run]) -> str:
    items = "".join(
        f"<li><b>{html.escape(r.label)}</b> — {html.escape(r.service or 'service')}"
        f"{', method ' + html.escape(r.method) if r.method else ''}, "
        f"{'reused' if r.result.reused else f'{r.elapsed:.1f} s'}: "
        f"<code>{html.escape(str(r.foreground))}</code>, "
        f"<code>{html.escape(str(r.background))}</code></li>"
        for r in runs
    )
    return f"<ul class='runs'>{items}</ul>"


def mimebundle(
    title: str,
    runs: Sequence[Run],
    metrics: pd.DataFrame,
    pairwise: pd.DataFrame,
    *,
    window: Window,
    max_bytes: int = MAX_DISPLAY_BYTES,
) -> dict[str, str]:
    """The notebook display: title, figures, scores, players that fit the budget."""
    duration = runs[0].stems().duration
    pngs = [
        (alt, figure_png(fig, dpi=72, max_bytes=_FIGURE_BYTES))
        for _, alt, fig in figures(runs, window)
    ]
    scores = metrics_html(metrics, "Scores (dB)")
    if len(runs) > 1:
        scores += metrics_html(
            pairwise, "Foreground SDR of each run (columns) against each other (rows), dB"
        )
    parts = [
        '<div class="camb-comparison" style="font-family:system-ui,sans-serif;max-width:820px">',
        f'<div style="font-weight:600;margin-bottom:4px">{html.escape(title)}</div>',
        *(img_tag(png, alt) for alt, png in pngs),
        scores,
        _runs_html(runs),
    ]
    used = sum(len(p) for p in parts) + 4 * sum(len(png) for _, png in pngs) // 3
    budget = max(0, (max_bytes - used - 8_000) * 3 // 4)
    named, sr = lanes(runs, window)
    previews, bitrate = encode_previews(named, sr, budget=budget, bitrates=PREVIEW_BITRATES)
    if bitrate is not None:
        from ..viz import audio_tag

        rows = "".join(
            f'<tr><td style="padding:2px 8px 2px 0">{html.escape(name)}</td>'
            f"<td style='width:100%'>{audio_tag(name, opus)}</td></tr>"
            for name, opus in previews.items()
        )
        parts.append(f'<table class="camb-players" style="width:100%">{rows}</table>')
    parts.append(
        f'<div style="font-size:85%;color:#666">Figures and players: {window.describe(duration)}'
        f"{f' (Opus {bitrate // 1000} kb/s)' if bitrate else ' (players left out: too long)'}"
        "; scores: the whole clip.</div></div>"
    )
    plain = [title, metrics.round(1).to_string()]
    return {
        "text/plain": "\n".join(plain),
        "image/png": base64.b64encode(pngs[0][1]).decode("ascii"),
        "text/html": "".join(parts),
    }


def write(
    target_path: str,
    clip: str,
    heading: str,
    runs: Sequence[Run],
    metrics: pd.DataFrame,
    pairwise: pd.DataFrame,
    *,
    window: Window,
    max_audio_bytes: int,
    bitrates: Sequence[int],
    features: pd.DataFrame | None = None,
) -> Path:
    """Write the comparison's self-contained HTML page (as ``report.write_report`` does)."""
    target = report_path(target_path, clip)
    duration = runs[0].stems().duration
    named, sr = lanes(runs, window)
    previews, bitrate = encode_previews(named, sr, budget=max_audio_bytes, bitrates=bitrates)
    body = [
        f"<h1>{html.escape(heading)}</h1>",
        f'<p class="sub">{len(runs)} runs · figures and players: '
        f"{html.escape(window.describe(duration))} · scores: the whole clip</p>",
        *players_section(
            previews, bitrate, max_audio_bytes, "the original once, then each run's stems."
        ),
        "<h2>Scores</h2>",
        metrics_html(metrics, "dB"),
    ]
    if len(runs) > 1:
        body.append(
            metrics_html(
                pairwise, "Foreground SDR of each run (columns) against each other (rows), dB"
            )
        )
    for heading_text, alt, fig in figures(runs, window, width=9.0):
        body.append(f"<h2>{html.escape(heading_text)}</h2>")
        body.append(img_tag(figure_png(fig, dpi=96), alt))
    if features is not None:
        body.append("<h2>Measures</h2>")
        body.append(metrics_html(features, "per run and stem (units in analysis.MEASURES)"))
    body.append("<h2>Runs</h2>")
    body.append(_runs_html(runs))
    return save_page(target, html_page(heading, body))
