"""One self-contained HTML page per clip: figures, players, facts (``camb-notebook report``).

The page embeds everything as data URIs — PNG figures and Ogg Opus previews — and
refers to nothing outside itself, so it can be mailed, archived or opened offline.
"""

from __future__ import annotations

import html
import os
from datetime import datetime, timezone
from pathlib import Path

from ._exceptions import InputError
from .api import SeparationResult
from .audio import Stems
from .viz import (
    audio_tag,
    encode_previews,
    facts_table,
    figure_png,
    img_tag,
    plot_mask,
    plot_overview,
    plot_spectrograms,
    result_files,
    result_title,
    stem_facts,
)

__all__ = ["REPORT_BITRATES", "REPORT_MAX_AUDIO_BYTES", "write_report"]

#: Upper bound of the embedded audio of one report (raw Opus bytes, all players).
REPORT_MAX_AUDIO_BYTES = 16_000_000
#: Preview bitrates tried, best first (48 kb/s: a 10-minute clip's four players ≈ 15 MB).
REPORT_BITRATES: tuple[int, ...] = (48_000, 32_000, 24_000, 16_000)

_DPI = 96
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto;
       max-width: 960px; padding: 0 16px; color: #212529; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.1rem; margin-top: 1.6rem; border-bottom: 1px solid #dee2e6; }
.sub { color: #6c757d; margin-top: 0; }
table.players td { padding: 3px 10px 3px 0; vertical-align: middle; }
table.players td.player { width: 100%; }
code { font-size: 0.85em; }
footer { margin-top: 2rem; color: #868e96; font-size: 0.8rem; }
"""


def _target(path: str | os.PathLike[str], clip: str) -> Path:
    """Where to write: *path* itself, or ``<path>/<clip>.report.html`` for a folder."""
    target = Path(path)
    if target.is_dir() or str(path).endswith(os.sep):
        target = target / f"{clip}.report.html"
    if target.suffix.lower() not in (".html", ".htm"):
        raise InputError(
            f"{target}: a report is an HTML page; give a path ending in .html or a folder",
            path=str(target),
        )
    return target


def _about(result: SeparationResult | Stems) -> tuple[str, str, list[tuple[str, str]]]:
    """The clip's name, the default title and the extra rows of the facts table."""
    if isinstance(result, Stems):
        return "separation", "Separated stems", []
    if not isinstance(result, SeparationResult):
        raise InputError(
            f"write_report() takes a SeparationResult or camb_notebook.audio.Stems, got "
            f"{type(result).__name__}; for arrays use Stems.from_arrays(original, foreground, "
            "background, sr)"
        )
    extra = [(k, v) for k, v in (("Method", result.method), ("Task", result.task_id)) if v]
    if result.run_id is not None:
        extra.append(("Run", str(result.run_id)))
    extra += [(f"File of {name}", path) for name, path in result_files(result).items()]
    return result.original.stem, result_title(result), extra


def write_report(
    result: SeparationResult | Stems,
    path: str | os.PathLike[str],
    title: str | None = None,
    *,
    max_audio_bytes: int = REPORT_MAX_AUDIO_BYTES,
) -> Path:
    """Write one self-contained HTML page about a separated clip and return its path.

    The page holds the facts table (duration, rate, channels, level of each stem,
    residual), the overview figure (waveforms over spectrograms), the spectrograms
    on one colour scale, the foreground soft mask, and a player for the original,
    both stems and the residual, with Ogg Opus previews embedded at the best bitrate
    that keeps all players within ``max_audio_bytes``. Nothing is fetched from the
    network or from other files.

    Parameters
    ----------
    result : SeparationResult or Stems
        A result (its file names, method and task are listed too) or aligned stems.
    path : str or os.PathLike
        The ``.html`` file to write, or an existing folder (the page is then named
        after the clip: ``<folder>/<clip>.report.html``). Parent folders are created.
    title : str or None
        Page title; default names the clip.
    max_audio_bytes : int
        Bound of the embedded previews; above it the page has no players and says so.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from camb_notebook.audio import Stems
    >>> x = np.random.default_rng(0).uniform(-0.3, 0.3, (2, 16000)).astype(np.float32)
    >>> page = write_report(Stems(x, 0.6 * x, 0.4 * x, 16000), tempfile.mkdtemp())
    >>> page.name, page.read_text().count("<audio")
    ('separation.report.html', 4)
    """
    clip, default_title, extra = _about(result)
    target = _target(path, clip)
    stems = result if isinstance(result, Stems) else result.stems()
    lanes = [*stems.items(), ("residual", stems.residual)]
    facts = stem_facts(stems)
    heading = title if title is not None else default_title

    figures = [
        ("Overview", "Waveforms over spectrograms of every lane", plot_overview(stems)),
        (
            "Spectrograms on one colour scale",
            "Spectrograms of original, foreground and background on one dB scale",
            plot_spectrograms(stems),
        ),
        (
            "Foreground mask",
            "Soft mask |F| / (|F| + |B|) on the STFT grid",
            plot_mask(stems),
        ),
    ]
    previews, bitrate = encode_previews(
        lanes, stems.sr, budget=max_audio_bytes, bitrates=REPORT_BITRATES
    )

    body = [
        f"<h1>{html.escape(heading)}</h1>",
        f'<p class="sub">{html.escape(facts["line"])}</p>',
        "<h2>Listen</h2>",
    ]
    if bitrate is not None:  # previews fit
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td class='player'>{audio_tag(name, opus)}</td></tr>"
            for name, opus in previews.items()
        )
        body.append(f'<table class="players">{rows}</table>')
        body.append(
            f'<p class="sub">Previews: Ogg Opus at {bitrate // 1000} kb/s; the residual is '
            "original − foreground − background.</p>"
        )
    else:
        body.append(
            '<p class="no-audio">No players: previews of this clip would exceed '
            f"{max_audio_bytes // 1_000_000} MB. Listen to the stem files listed below.</p>"
        )
    for heading_text, alt, fig in figures:
        body.append(f"<h2>{html.escape(heading_text)}</h2>")
        body.append(img_tag(figure_png(fig, dpi=_DPI), alt))
    body.append("<h2>Facts</h2>")
    body.append(facts_table(facts, extra))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body.append(f"<footer>Written by camb_notebook on {stamp}.</footer>")

    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(heading)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target
