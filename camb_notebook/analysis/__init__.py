"""Measures of audio and of separated stems, computed in blocks with librosa and pyloudnorm.

Every measure streams: a file is read block by block, never decoded whole, so an hour-long
clip costs the memory of one block. Numbers are named with their unit:

=================  ======  ==================================================================
measure            unit    what it is
=================  ======  ==================================================================
loudness_lufs      LUFS    integrated loudness, ITU-R BS.1770-4 (K-weighted, gated); −inf
                           when silent; equals ``pyloudnorm``
peak_dbfs          dBFS    sample peak: the largest \\|sample\\| of any channel
rms_dbfs           dBFS    RMS level over all channels (a full-scale sine is −3 dBFS)
centroid_hz        Hz      spectral centroid of the mono mix (librosa, per frame, weighted by
                           each frame's magnitude)
bandwidth_hz       Hz      spectral bandwidth around it (magnitude-weighted RMS per frame)
onset_rate         1/s     onsets per second (librosa's spectral-flux envelope, peak picking)
tempo_bpm          BPM     librosa.feature.tempo on the clip's mean tempogram
voiced_fraction    0–1     share of 64 ms frames librosa.pyin calls voiced (8 kHz, 65–1000 Hz)
silence_fraction   0–1     share of the time in 100 ms windows below −60 dBFS RMS
=================  ======  ==================================================================

By default a separation's stems get the common measures plus tempo (original, background)
and voiced share (foreground): :data:`STEM_MEASURES`.

- :func:`measure` — one file or array → ``{measure: value}``.
- :func:`features` — :class:`~camb_notebook.audio.Stems` → a DataFrame, a row per stem
  (``SeparationResult.features()`` calls it).
- :func:`to_dataframe` — many results (or comparisons) → one row per clip and run.

Examples
--------
>>> import numpy as np
>>> from camb_notebook import analysis
>>> sr = 48000
>>> tone = 0.1 * np.sin(2 * np.pi * 1000 * np.arange(5 * sr) / sr)  # -20 dBFS peak
>>> m = analysis.measure(tone, sr, measures=["loudness_lufs", "peak_dbfs"])
>>> round(m["loudness_lufs"], 1), round(m["peak_dbfs"], 1)
(-23.0, -20.0)
"""

from ._measures import (
    BLOCK,
    MEASURES,
    STEM_MEASURES,
    Measure,
    SignalMeter,
    measure,
    measures_table,
    stem_measures,
)
from ._table import Measured, features, features_frame, to_dataframe

__all__ = [
    "BLOCK",
    "MEASURES",
    "STEM_MEASURES",
    "Measure",
    "Measured",
    "SignalMeter",
    "features",
    "features_frame",
    "measure",
    "measures_table",
    "stem_measures",
    "to_dataframe",
]
