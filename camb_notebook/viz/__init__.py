"""Pictures of audio separation: waveform peaks, spectrograms, masks and rich displays.

The feature functions (:func:`peaks`, :func:`spectrogram_db`, :func:`spectrogram_png`,
:func:`db_range`) need only numpy at import time; matplotlib, scipy and Pillow are
imported when a function needs them, so ``import camb_notebook.viz`` is quick.
"""

from __future__ import annotations

from camb_notebook.viz._display import (
    MAX_DISPLAY_BYTES,
    MAX_FIGURE_BYTES,
    PREVIEW_BITRATES,
    result_mimebundle,
)
from camb_notebook.viz._facts import format_duration, stem_facts
from camb_notebook.viz._features import db_range, peaks, spectrogram_db, spectrogram_png
from camb_notebook.viz._players import MAX_PLAYERS_BYTES, Players, players
from camb_notebook.viz._plots import (
    STEM_COLOURS,
    foreground_mask,
    plot_mask,
    plot_overview,
    plot_spectrograms,
    plot_waveforms,
)

__all__ = [
    "MAX_DISPLAY_BYTES",
    "MAX_FIGURE_BYTES",
    "MAX_PLAYERS_BYTES",
    "PREVIEW_BITRATES",
    "STEM_COLOURS",
    "Players",
    "db_range",
    "foreground_mask",
    "format_duration",
    "peaks",
    "players",
    "plot_mask",
    "plot_overview",
    "plot_spectrograms",
    "plot_waveforms",
    "result_mimebundle",
    "spectrogram_db",
    "spectrogram_png",
    "stem_facts",
]
