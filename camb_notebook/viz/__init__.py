"""Pictures of audio separation: waveform peaks, spectrograms, masks and rich displays.

Figures, facts and displays take :class:`camb_notebook.audio.Stems` (for a separation
result, ``result.stems()``); the feature functions take plain arrays shaped
``(channels, n)``. The feature functions (:func:`peaks`, :func:`spectrogram_db`,
:func:`spectrogram_png`, :func:`db_range`) need only numpy at import time; matplotlib,
scipy and Pillow are imported when a function needs them, so ``import camb_notebook.viz``
is quick.

Modules, lowest first (each imports only from those above it):

- ``_features``: arrays to numbers and spectrogram PNGs (peaks, dB spectrograms).
- ``_lanes``: Stems to the named lanes every picture and player draws.
- ``_figure``: matplotlib plumbing (figures pyplot does not keep, compact PNGs).
- ``_plots``: the figures.
- ``_facts``: the facts of a separation in words.
- ``_html``: inline HTML pieces (images, players, facts table) and byte budgets.
- ``_players``: a row of players for notebooks.
- ``_display``: the rich display of stems and of a separation result.
"""

from __future__ import annotations

from ._display import (
    MAX_FIGURE_BYTES,
    SeparatedFiles,
    result_files,
    result_mimebundle,
    result_title,
    stems_mimebundle,
)
from ._facts import StemFacts, format_duration, stem_facts
from ._features import db_range, peaks, spectrogram_db, spectrogram_png
from ._figure import figure_png
from ._html import (
    MAX_DISPLAY_BYTES,
    PREVIEW_BITRATES,
    audio_tag,
    encode_previews,
    facts_table,
    img_tag,
)
from ._players import MAX_PLAYERS_BYTES, Players, players
from ._plots import (
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
    "SeparatedFiles",
    "StemFacts",
    "audio_tag",
    "db_range",
    "encode_previews",
    "facts_table",
    "figure_png",
    "foreground_mask",
    "format_duration",
    "img_tag",
    "peaks",
    "players",
    "plot_mask",
    "plot_overview",
    "plot_spectrograms",
    "plot_waveforms",
    "result_files",
    "result_mimebundle",
    "result_title",
    "spectrogram_db",
    "spectrogram_png",
    "stem_facts",
    "stems_mimebundle",
]
