"""The rich notebook display of separated stems, without the widget.

``SeparationResult._repr_mimebundle_`` calls :func:`result_mimebundle`, which reads
the result through the small :class:`SeparatedFiles` protocol and hands its stems,
title and files to :func:`stems_mimebundle`. The bundle is what a saved notebook
keeps, so it is bounded: the whole bundle stays within :data:`MAX_DISPLAY_BYTES`,
the figure within :data:`MAX_FIGURE_BYTES`, and audio is embedded only as
low-bitrate Ogg Opus previews when they fit what is left. Never WAV. Longer clips
show the figure, the file paths and a pointer to the widget.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from .._exceptions import InputError
from ..audio import Stems
from ._facts import StemFacts, stem_facts
from ._figure import figure_png
from ._html import (
    MAX_DISPLAY_BYTES,
    PREVIEW_BITRATES,
    audio_tag,
    b64_size,
    encode_previews,
    facts_table,
    img_tag,
)
from ._lanes import require_stems, stem_lanes
from ._plots import plot_overview

__all__ = [
    "MAX_FIGURE_BYTES",
    "SeparatedFiles",
    "result_files",
    "result_mimebundle",
    "result_title",
    "stems_mimebundle",
]

#: Upper bound of the static figure (PNG bytes, before base64).
MAX_FIGURE_BYTES = 120_000

_FIGURE_DPI = 72
# Room for the markup around the data URIs.
_HTML_SLACK = 8_000
_STEMS_TITLE = "Separated stems"


class SeparatedFiles(Protocol):
    """What the display reads from a finished separation on disk.

    :class:`camb_notebook.SeparationResult` has all of it; viz only needs this much,
    so it never depends on the client.

    Attributes
    ----------
    original, foreground, background : pathlib.Path
        The clip and its two stems.
    task_id : str or None
    method : str or None
        Separation method, when known.
    elapsed : float
        Seconds the separation took (0 for a reused result).
    reused : bool
        True when an earlier, identical separation was served.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> from pathlib import Path
    >>> @dataclass
    ... class Done:
    ...     original: Path = Path("song.wav")
    ...     foreground: Path = Path("out/song.foreground.flac")
    ...     background: Path = Path("out/song.background.flac")
    ...     task_id: str | None = "t-1"
    ...     method: str | None = "repet"
    ...     elapsed: float = 1.25
    ...     reused: bool = False
    ...     def stems(self): ...  # Stems.from_files(self.original, ...)
    >>> result_title(Done())
    'song.wav — separated (method repet, 1.2 s)'
    """

    @property
    def original(self) -> Path: ...
    @property
    def foreground(self) -> Path: ...
    @property
    def background(self) -> Path: ...
    @property
    def task_id(self) -> str | None: ...
    @property
    def method(self) -> str | None: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def reused(self) -> bool: ...
    def stems(self) -> Stems:
        """Decode the three files into aligned :class:`~camb_notebook.audio.Stems`."""
        ...


def result_title(result: SeparatedFiles) -> str:
    """``"song.wav — separated (method repet, 1.2 s)"``: the clip, the method and the time.

    Parameters
    ----------
    result : SeparatedFiles
        A :class:`camb_notebook.SeparationResult`.

    Returns
    -------
    str

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from pathlib import Path
    >>> done = SimpleNamespace(original=Path("a/song.wav"), method=None, reused=True, elapsed=0.0)
    >>> result_title(done)
    'song.wav — separated (reused)'
    """
    bits = []
    if result.method:
        bits.append(f"method {result.method}")
    if result.reused:
        bits.append("reused")
    elif result.elapsed:
        bits.append(f"{result.elapsed:.1f} s")
    return f"{result.original.name} — separated" + (f" ({', '.join(bits)})" if bits else "")


def result_files(result: SeparatedFiles) -> dict[str, str]:
    """``{"original": path, "foreground": path, "background": path}`` as strings.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from pathlib import Path
    >>> done = SimpleNamespace(original=Path("song.wav"), foreground=Path("fg.flac"),
    ...                        background=Path("bg.flac"))
    >>> result_files(done)
    {'original': 'song.wav', 'foreground': 'fg.flac', 'background': 'bg.flac'}
    """
    return {
        "original": str(result.original),
        "foreground": str(result.foreground),
        "background": str(result.background),
    }


def _plain(title: str, facts: StemFacts, files: Mapping[str, str], task_id: str | None) -> str:
    lines = [title, facts["line"]]
    lines += [f"  {name}: {path}" for name, path in files.items()]
    if task_id:
        lines.append(f"  task_id: {task_id}")
    return "\n".join(lines)


def result_mimebundle(result: SeparatedFiles, *, max_bytes: int | None = None) -> dict[str, str]:
    """The rich display of a separation result: what ``SeparationResult`` shows in a notebook.

    :func:`stems_mimebundle` of ``result.stems()``, titled by :func:`result_title`,
    listing the files of :func:`result_files` and the task id.

    Parameters
    ----------
    result : SeparatedFiles
        A :class:`camb_notebook.SeparationResult`.
    max_bytes : int or None
        Bound of the whole bundle; default :data:`MAX_DISPLAY_BYTES`.

    Returns
    -------
    dict of str to str
        As :func:`stems_mimebundle`.

    Examples
    --------
    >>> from pathlib import Path
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> x = np.random.default_rng(0).uniform(-0.3, 0.3, (1, 16000)).astype(np.float32)
    >>> done = SimpleNamespace(  # stands in for a SeparationResult
    ...     original=Path("song.wav"), foreground=Path("fg.flac"), background=Path("bg.flac"),
    ...     task_id="t-1", method="repet", elapsed=1.25, reused=False,
    ...     stems=lambda: Stems(x, 0.5 * x, 0.5 * x, 16000),
    ... )
    >>> print(result_mimebundle(done)["text/plain"])
    song.wav — separated (method repet, 1.2 s)
    1.0 s · 16000 Hz · mono · original ...
      original: song.wav
      foreground: fg.flac
      background: bg.flac
      task_id: t-1
    """
    if isinstance(result, Stems):
        raise InputError(
            "result_mimebundle() takes a separation result; for Stems use stems_mimebundle(stems)"
        )
    return stems_mimebundle(
        result.stems(),
        title=result_title(result),
        files=result_files(result),
        task_id=result.task_id,
        max_bytes=max_bytes,
    )


def stems_mimebundle(
    stems: Stems,
    *,
    title: str = _STEMS_TITLE,
    files: Mapping[str, str | os.PathLike[str]] | None = None,
    task_id: str | None = None,
    max_bytes: int | None = None,
) -> dict[str, str]:
    """The rich display of separated stems: summary text, a static figure, compact players.

    Parameters
    ----------
    stems : Stems
        The clip and its stems.
    title : str
        First line of the text and heading of the HTML.
    files : mapping of str to path, or None
        Where each lane is stored (``original``, ``foreground``, ``background``); listed
        in the text and next to the players.
    task_id : str or None
        Listed in the text when given.
    max_bytes : int or None
        Bound of the whole bundle; default :data:`MAX_DISPLAY_BYTES`.

    Returns
    -------
    dict of str to str
        ``text/plain`` (title, facts line, files), ``image/png`` (base64 PNG of
        :func:`plot_overview`) and ``text/html`` (figure, facts table, one Opus player
        per stem when they fit the budget, else the files and a hint to use
        :class:`camb_notebook.SeparationWidget`).

    See Also
    --------
    result_mimebundle : the same for a separation result.

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> x = np.random.default_rng(0).uniform(-0.3, 0.3, (1, 16000)).astype(np.float32)
    >>> bundle = stems_mimebundle(Stems(x, 0.5 * x, 0.5 * x, 16000))
    >>> sorted(bundle), bundle["text/html"].count("<audio")
    (['image/png', 'text/html', 'text/plain'], 3)
    """
    stems = require_stems(stems, "stems_mimebundle")
    lanes, sr = stem_lanes(stems), stems.sr
    paths = {name: str(path) for name, path in (files or {}).items()}
    limit = MAX_DISPLAY_BYTES if max_bytes is None else int(max_bytes)
    facts = stem_facts(stems)
    plain = _plain(title, facts, paths, task_id)

    png = figure_png(plot_overview(stems, width=8.0), dpi=_FIGURE_DPI, max_bytes=MAX_FIGURE_BYTES)
    png_b64 = base64.b64encode(png).decode("ascii")
    # The PNG is stored twice: as image/png and inside the HTML.
    used = len(plain) + 2 * len(png_b64) + len(facts_table(facts)) + _HTML_SLACK
    budget = max(0, (limit - used) * 3 // 4)  # raw Opus bytes that fit once base64-encoded
    previews, bitrate = encode_previews(lanes, sr, budget=budget, bitrates=PREVIEW_BITRATES)

    parts = [
        '<div class="camb-result" style="font-family:system-ui,sans-serif;max-width:820px">',
        f'<div style="font-weight:600;margin-bottom:4px">{html.escape(title)}</div>',
        img_tag(png, "Waveforms and spectrograms of the original, foreground and background"),
    ]
    if bitrate is not None:  # previews fit
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
