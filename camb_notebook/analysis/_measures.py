"""The named measures of a signal, computed in one pass over its blocks."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._exceptions import InputError
from ..audio import Stems, open_audio
from ._levels import LevelMeter
from ._loudness import LoudnessMeter
from ._rhythm import RHYTHM_SR, OnsetMeter
from ._spectral import SpectralMeter
from ._voicing import VOICING_SR, VoicingMeter

__all__ = [
    "BLOCK",
    "MEASURES",
    "STEM_MEASURES",
    "Measure",
    "SignalMeter",
    "measure",
    "measures_table",
    "stem_measures",
]

#: Samples per block read from a file (memory: one block per signal, whatever the length).
BLOCK = 1 << 16


@dataclass(frozen=True)
class Measure:
    """One measure: its unit and what it is, in one line.

    Examples
    --------
    >>> MEASURES["loudness_lufs"].unit
    'LUFS'
    """

    name: str
    unit: str
    description: str


_ALL = (
    Measure(
        "loudness_lufs",
        "LUFS",
        "integrated loudness, ITU-R BS.1770-4 (K-weighted, gated "
        "at −70 LUFS and −10 LU; equals pyloudnorm); −inf when silent",
    ),
    Measure("peak_dbfs", "dBFS", "sample peak: the largest absolute sample value of any channel"),
    Measure(
        "rms_dbfs",
        "dBFS",
        "RMS level over all channels and samples (a full-scale sine is −3 dBFS); −120 when silent",
    ),
    Measure(
        "centroid_hz",
        "Hz",
        "spectral centroid of the mono mix: librosa's per-frame "
        "centroid (2048/512 STFT) weighted by each frame's magnitude",
    ),
    Measure(
        "bandwidth_hz",
        "Hz",
        "spectral bandwidth around that centroid: magnitude-weighted "
        "RMS of librosa's per-frame bandwidth",
    ),
    Measure(
        "onset_rate",
        "1/s",
        "onsets per second: librosa's spectral-flux onset envelope "
        "at 22.05 kHz, peaks picked as librosa.onset.onset_detect does",
    ),
    Measure(
        "tempo_bpm",
        "BPM",
        "tempo: librosa.feature.tempo on the tempogram averaged over the clip; NaN without onsets",
    ),
    Measure(
        "voiced_fraction",
        "0–1",
        "share of 64 ms frames that librosa.pyin (8 kHz, 65–1000 Hz) calls voiced",
    ),
    Measure(
        "silence_fraction",
        "0–1",
        "share of the time in 100 ms windows whose RMS level is below −60 dBFS",
    ),
)

#: Every measure by name, in display order.
MEASURES: dict[str, Measure] = {m.name: m for m in _ALL}

_COMMON = (
    "loudness_lufs",
    "peak_dbfs",
    "rms_dbfs",
    "centroid_hz",
    "bandwidth_hz",
    "onset_rate",
    "silence_fraction",
)
#: What :func:`stem_measures` computes for each stem by default: tempo where the rhythm is
#: (original, background), the voiced share where the voice is (foreground).
STEM_MEASURES: dict[str, tuple[str, ...]] = {
    "original": (*_COMMON, "tempo_bpm"),
    "foreground": (*_COMMON, "voiced_fraction"),
    "background": (*_COMMON, "tempo_bpm"),
}


def _check(names: Iterable[str] | None) -> tuple[str, ...]:
    if names is None:
        return tuple(MEASURES)
    names = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in names if n not in MEASURES]
    if unknown:
        raise InputError(
            f"unknown measure {unknown[0]!r}; choose from {', '.join(MEASURES)}",
            parameter="measures",
            value=unknown[0],
        )
    return tuple(n for n in MEASURES if n in names)


class _Resampled:
    """A mono stream resampled on the fly (soxr, as the audio reader does)."""

    def __init__(self, sr_in: int, sr_out: int, sink: Any) -> None:
        import soxr

        self.sink = sink
        self._rs = (
            None
            if sr_in == sr_out
            else soxr.ResampleStream(sr_in, sr_out, 1, dtype="float32", quality="HQ")
        )

    def push(self, mono: np.ndarray) -> None:
        self.sink.push(mono if self._rs is None else self._rs.resample_chunk(mono))

    def finish(self) -> None:
        if self._rs is not None:
            self.sink.push(self._rs.resample_chunk(np.zeros(0, np.float32), last=True))


class SignalMeter:
    """Every asked-for measure of one ``(channels, n)`` stream, fed block by block.

    Memory is one block, a few STFT frames per analysis and 8 bytes per 100 ms for the
    loudness gate, whatever the stream's length.

    Parameters
    ----------
    sr : int
    channels : int
    measures : iterable of str, optional
        Names from :data:`MEASURES`; default all.

    Examples
    --------
    >>> m = SignalMeter(8000, 1, ["peak_dbfs", "silence_fraction"])
    >>> m.push(np.zeros((1, 8000), np.float32))
    >>> m.result()
    {'peak_dbfs': -120.0, 'silence_fraction': 1.0}
    """

    def __init__(self, sr: int, channels: int, measures: Iterable[str] | None = None) -> None:
        self.names = _check(measures)
        want = set(self.names)
        self.sr, self.channels = int(sr), int(channels)
        self._levels = (
            LevelMeter(sr, channels)
            if want & {"peak_dbfs", "rms_dbfs", "silence_fraction"}
            else None
        )
        self._loudness = LoudnessMeter(sr, channels) if "loudness_lufs" in want else None
        self._spectral = SpectralMeter(sr) if want & {"centroid_hz", "bandwidth_hz"} else None
        self._onsets = None
        if want & {"onset_rate", "tempo_bpm"}:
            onsets = OnsetMeter(tempo="tempo_bpm" in want)
            self._onsets = (_Resampled(sr, RHYTHM_SR, onsets), onsets)
        self._voicing = None
        if "voiced_fraction" in want:
            voicing = VoicingMeter()
            self._voicing = (_Resampled(sr, VOICING_SR, voicing), voicing)

    def push(self, block: np.ndarray) -> None:
        """Account for the next samples, shaped ``(channels, n)``."""
        x = np.asarray(block, np.float32)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise InputError(
                f"a block of shape {x.shape} does not fit a stream of {self.channels} channels"
            )
        if self._levels is not None:
            self._levels.push(x)
        if self._loudness is not None:
            self._loudness.push(x)
        mono = x[0] if self.channels == 1 else x.mean(axis=0)
        if self._spectral is not None:
            self._spectral.push(mono)
        for pair in (self._onsets, self._voicing):
            if pair is not None:
                pair[0].push(mono)

    def result(self) -> dict[str, float]:
        """The measures, by name, in :data:`MEASURES` order."""
        out: dict[str, float] = {}
        if self._levels is not None:
            out.update(self._levels.result())
        if self._loudness is not None:
            out["loudness_lufs"] = self._loudness.result()
        if self._spectral is not None:
            out.update(self._spectral.result())
        for pair in (self._onsets, self._voicing):
            if pair is not None:
                pair[0].finish()
                out.update(pair[1].result())
        return {name: float(out[name]) for name in self.names}


def measure(
    source: str | os.PathLike[str] | np.ndarray,
    sr: int | None = None,
    *,
    measures: Iterable[str] | None = None,
    block: int = BLOCK,
) -> dict[str, float]:
    """Named measures of one signal: a file (decoded in blocks) or an array.

    Parameters
    ----------
    source : path or np.ndarray [shape=(channels, n) or (n,)]
        An audio file, read block by block (never whole), or samples.
    sr : int, optional
        The array's sample rate (required for an array; a file has its own).
    measures : iterable of str, optional
        Names from :data:`MEASURES` (see :func:`measures_table`); default all.
    block : int
        Samples per block.

    Returns
    -------
    dict of str to float

    Examples
    --------
    >>> sr = 8000
    >>> tone = 0.5 * np.sin(2 * np.pi * 500 * np.arange(2 * sr) / sr)
    >>> m = measure(tone, sr, measures=["peak_dbfs", "rms_dbfs", "silence_fraction"])
    >>> {k: round(v, 1) for k, v in m.items()}
    {'peak_dbfs': -6.0, 'rms_dbfs': -9.0, 'silence_fraction': 0.0}
    """
    if isinstance(source, np.ndarray):
        if sr is None:
            raise InputError(
                "measure() of an array needs its sample rate: pass sr=", parameter="sr"
            )
        x = np.atleast_2d(np.asarray(source, np.float32))
        meter = SignalMeter(sr, x.shape[0], measures)
        for i in range(0, x.shape[1], block):
            meter.push(x[:, i : i + block])
        return meter.result()
    with open_audio(source) as reader:
        meter = SignalMeter(reader.sample_rate, reader.channels, measures)
        for chunk in reader.blocks(block):
            meter.push(chunk)
        return meter.result()


def stem_measures(
    stems: Stems,
    *,
    measures: dict[str, Sequence[str]] | Iterable[str] | None = None,
    block: int = BLOCK,
) -> dict[str, dict[str, float]]:
    """Named measures of each stem, read together block by block (one pass over the files).

    Parameters
    ----------
    stems : Stems
        The clip and its stems (``result.stems()``); file-backed stems are never decoded
        whole.
    measures : dict of str to names, or names, optional
        Which measures of which stem; default :data:`STEM_MEASURES`. A plain list of
        names applies to all three.
    block : int
        Samples per block.

    Returns
    -------
    dict of str to dict of str to float
        ``{"original": {...}, "foreground": {...}, "background": {...}}``.

    Examples
    --------
    >>> x = np.zeros((1, 8000), np.float32)
    >>> x[0, :4000] = 0.5
    >>> out = stem_measures(Stems(x, x, 0 * x, 8000), measures=["peak_dbfs"])
    >>> {stem: round(m["peak_dbfs"], 1) for stem, m in out.items()}
    {'original': -6.0, 'foreground': -6.0, 'background': -120.0}
    """
    if not isinstance(stems, Stems):
        raise InputError(
            f"stem_measures() takes camb_notebook.audio.Stems, got {type(stems).__name__}; "
            "for a separation result use result.features()"
        )
    if measures is None:
        plan = dict(STEM_MEASURES)
    elif isinstance(measures, dict):
        plan = {stem: tuple(names) for stem, names in measures.items()}
    else:
        names = _check(measures)
        plan = dict.fromkeys(STEM_MEASURES, names)
    meters = {stem: SignalMeter(stems.sr, stems.channels, names) for stem, names in plan.items()}
    for window in stems.blocks(block):
        for stem, meter in meters.items():
            meter.push(getattr(window, stem))
    return {stem: meter.result() for stem, meter in meters.items()}


def measures_table() -> str:
    """The measures as a Markdown table: name, unit, what it is.

    Examples
    --------
    >>> print(measures_table().splitlines()[2])
    | loudness_lufs | LUFS | integrated loudness, ITU-R BS.1770-4 ...
    """
    rows = ["| measure | unit | what it is |", "| --- | --- | --- |"]
    rows += [f"| {m.name} | {m.unit} | {m.description} |" for m in MEASURES.values()]
    return "\n".join(rows)
