"""Measures against signals whose answers are known, and against librosa/pyloudnorm on the
whole signal: the blockwise values equal the whole-clip ones."""

from __future__ import annotations

import math

import librosa
import numpy as np
import pyloudnorm
import pytest

from camb_notebook import analysis
from camb_notebook._exceptions import InputError
from camb_notebook.analysis._loudness import LoudnessMeter
from camb_notebook.analysis._rhythm import (
    RHYTHM_SR,
    OnsetMeter,
    floor_db,
    onset_envelope,
    pick_onsets,
)
from camb_notebook.analysis._spectral import SpectralMeter
from camb_notebook.analysis._voicing import VOICING_SR, VoicingMeter

from .conftest import clicks, tone, uneven_blocks

SR = 48000


# -- loudness and levels ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("peak_dbfs", "channels", "lufs"),
    [
        (-20.0, 1, -23.0),  # BS.1770: a 1 kHz sine at 0 dBFS in one channel reads -3.01
        (-20.0, 2, -20.0),  # the same in both channels: +3 dB
        (-23.0, 2, -23.0),  # EBU Tech 3341 case 1: stereo 1 kHz at -23 dBFS -> -23.0 LUFS
    ],
)
def test_a_tones_loudness_and_levels(peak_dbfs: float, channels: int, lufs: float) -> None:
    x = tone(1000, 10 ** (peak_dbfs / 20), 20.0, SR, channels)
    m = analysis.measure(x, SR, measures=["loudness_lufs", "peak_dbfs", "rms_dbfs"])
    assert m["loudness_lufs"] == pytest.approx(lufs, abs=0.1)  # Tech 3341's tolerance
    assert m["peak_dbfs"] == pytest.approx(peak_dbfs, abs=0.01)
    assert m["rms_dbfs"] == pytest.approx(peak_dbfs - 3.01, abs=0.01)  # a sine's crest


@pytest.mark.parametrize("sr", [8000, 11025, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2, 5])
def test_loudness_in_blocks_equals_pyloudnorm_on_the_whole_array(sr: int, channels: int) -> None:
    rng = np.random.default_rng(sr + channels)
    n = int(sr * 6.37)
    x = rng.standard_normal((channels, n)) * np.linspace(0.001, 0.4, n)
    x[:, n // 3 : n // 2] *= 1e-4  # a quiet stretch the relative gate drops
    meter = LoudnessMeter(sr, channels)
    for block in uneven_blocks(x, seed=sr):
        meter.push(block)
    assert meter.result() == pytest.approx(pyloudnorm.Meter(sr).integrated_loudness(x.T), abs=1e-6)


def test_loudness_of_silence_and_of_too_short_a_clip() -> None:
    meter = LoudnessMeter(SR, 2)
    meter.push(np.zeros((2, SR)))
    assert meter.result() == -math.inf
    short = LoudnessMeter(SR, 1)
    short.push(tone(1000, 0.5, 0.3, SR))
    assert math.isnan(short.result())  # BS.1770 needs one 400 ms block


def test_silence_reads_silent_everywhere() -> None:
    m = analysis.measure(np.zeros((2, 5 * SR), np.float32), SR)
    assert m["loudness_lufs"] == -math.inf
    assert m["peak_dbfs"] == m["rms_dbfs"] == -120.0
    assert m["silence_fraction"] == 1.0
    assert m["onset_rate"] == 0.0 and m["voiced_fraction"] == 0.0
    assert math.isnan(m["tempo_bpm"]) and math.isnan(m["centroid_hz"])


def test_share_of_silence_counts_time() -> None:
    x = np.concatenate([tone(440, 0.5, 2.0, SR), np.zeros((1, 3 * SR))], axis=1)
    x[0, -SR // 2 :] = 2e-4  # -77 dBFS hiss at the end: still silence
    assert analysis.measure(x, SR, measures=["silence_fraction"])["silence_fraction"] == 0.6


# -- spectrum ---------------------------------------------------------------------------------
def test_centroid_and_bandwidth_in_blocks_equal_librosa_on_the_whole_clip() -> None:
    rng = np.random.default_rng(5)
    y = (tone(300, 0.3, 4.0, SR)[0] + 0.05 * rng.standard_normal(4 * SR)).astype(np.float32)
    y[SR : 2 * SR] = 0  # silent frames: librosa says 0 Hz there; they must not count
    S = np.abs(librosa.stft(y, n_fft=2048, hop_length=512, pad_mode="constant"))
    c = librosa.feature.spectral_centroid(S=S, sr=SR)[0]
    b = librosa.feature.spectral_bandwidth(S=S, sr=SR)[0]
    w = S.sum(axis=0, dtype=np.float64)
    meter = SpectralMeter(SR)
    for block in uneven_blocks(y):
        meter.push(block)
    got = meter.result()
    assert got["centroid_hz"] == pytest.approx(np.dot(w, c) / w.sum(), rel=1e-6)
    assert got["bandwidth_hz"] == pytest.approx(
        np.sqrt(np.dot(w, b.astype(float) ** 2) / w.sum()), rel=1e-6
    )


def test_white_noise_centroid_is_a_quarter_of_the_rate() -> None:
    y = np.random.default_rng(0).uniform(-0.5, 0.5, 10 * 16000)
    m = analysis.measure(y, 16000, measures=["centroid_hz"])
    assert m["centroid_hz"] == pytest.approx(4000, rel=0.01)  # flat spectrum: its middle


# -- onsets and tempo -------------------------------------------------------------------------
def test_a_click_tracks_onset_rate_and_tempo() -> None:
    # 120 BPM for 20 s: a click every 0.5 s from 0.25 s, 40 clicks.
    sr = 44100
    y = clicks([0.25 + 0.5 * k for k in range(40)], 20.0, sr)
    m = analysis.measure(y, sr, measures=["onset_rate", "tempo_bpm"])
    assert m["onset_rate"] == 2.0
    # librosa's tempo bins at 22.05 kHz / 512: 117.45 and 123.05 BPM around 120.
    assert m["tempo_bpm"] == pytest.approx(120, abs=3.0)


def _onsets_in_blocks(y: np.ndarray, blocks) -> int:
    meter = OnsetMeter(tempo=False)
    for block in blocks:
        meter.push(block)
    return round(meter.result()["onset_rate"] * len(y) / RHYTHM_SR)


@pytest.mark.parametrize("block", [512, 22050, 131072, 256 * 512])
def test_onsets_at_block_edges_are_found_once(block: int) -> None:
    # A click at every block edge of the stream and at every segment edge of the frame grid
    # (256 frames of 512 samples): each is one onset, never lost, never doubled.
    n = 12 * RHYTHM_SR
    candidates = sorted(
        {*range(block, n - 4096, max(block, 11025)), *range(256 * 512, n, 256 * 512)}
    )
    edges = [e for i, e in enumerate(candidates) if i == 0 or e - candidates[i - 1] > 4410]
    y = clicks([i / RHYTHM_SR for i in edges], n / RHYTHM_SR, RHYTHM_SR)
    expected = len(pick_onsets(onset_envelope(y)))
    assert expected == len(edges)
    assert _onsets_in_blocks(y, (y[i : i + block] for i in range(0, n, block))) == expected


def test_onsets_and_tempo_in_blocks_equal_the_whole_clip(example_original: np.ndarray) -> None:
    y = example_original
    env = onset_envelope(y)
    meter = OnsetMeter()
    for block in uneven_blocks(y, seed=3):
        meter.push(block)
    got = meter.result()
    assert got["onset_rate"] * len(y) / RHYTHM_SR == pytest.approx(len(pick_onsets(env)))
    assert got["tempo_bpm"] == librosa.feature.tempo(onset_envelope=env, sr=RHYTHM_SR)[0]


def test_the_dB_floor_is_80_dB_below_full_scale() -> None:
    assert floor_db() == pytest.approx(40.2 - 80, abs=0.5)


# -- voicing ----------------------------------------------------------------------------------
def test_voiced_fraction_of_a_tone_then_silence() -> None:
    y = np.concatenate([tone(220, 0.3, 3.0, VOICING_SR)[0], np.zeros(3 * VOICING_SR)])
    m = analysis.measure(y, VOICING_SR, measures=["voiced_fraction"])
    assert m["voiced_fraction"] == pytest.approx(0.5, abs=0.03)


def test_voicing_in_overlapping_blocks_matches_one_pyin_pass(
    monkeypatch: pytest.MonkeyPatch, example_foreground_8k: np.ndarray
) -> None:
    from camb_notebook.analysis import _voicing

    y = example_foreground_8k
    _, flags, _ = librosa.pyin(
        y,
        fmin=_voicing.FMIN,
        fmax=_voicing.FMAX,
        sr=VOICING_SR,
        frame_length=_voicing.FRAME,
        hop_length=_voicing.HOP,
        resolution=_voicing.RESOLUTION,
    )
    monkeypatch.setattr(_voicing, "_FRAMES", 40)  # many block edges in 15 s
    meter = VoicingMeter()
    for block in uneven_blocks(y, seed=4, largest=9000):
        meter.push(block)
    fraction = meter.result()["voiced_fraction"]
    assert meter.frames == len(flags)
    # pYIN's path is decoded per block (1 s of context each side): a frame or two may differ.
    assert meter.voiced == pytest.approx(np.count_nonzero(flags), abs=2)
    assert fraction == pytest.approx(flags.mean(), abs=0.01)


# -- the API ----------------------------------------------------------------------------------
def test_measures_by_name_with_clear_errors() -> None:
    with pytest.raises(InputError, match=r"unknown measure 'lufs'.*loudness_lufs"):
        analysis.measure(np.zeros(100), 8000, measures=["lufs"])
    with pytest.raises(InputError, match="sr="):
        analysis.measure(np.zeros(100))
    assert list(analysis.measure(np.zeros(8000), 8000, measures=["rms_dbfs", "peak_dbfs"])) == [
        "peak_dbfs",
        "rms_dbfs",
    ]


def test_every_measure_is_documented_with_a_unit() -> None:
    doc = analysis.__doc__ or ""
    for m in analysis.MEASURES.values():
        assert m.unit and m.description
        assert m.name in doc and m.unit in doc
    assert analysis.measures_table().count("\n") == len(analysis.MEASURES) + 1


def test_the_readme_lists_every_measure_with_its_unit() -> None:
    from pathlib import Path

    from camb_notebook.analysis import measures_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert measures_table() in readme, "README's table of measures is stale: paste measures_table()"
