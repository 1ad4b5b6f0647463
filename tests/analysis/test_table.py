"""Measures of a separation result's files and the table of many results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from camb_notebook import analysis
from camb_notebook._exceptions import InputError
from camb_notebook.api import SeparationResult
from camb_notebook.audio import Stems, save

from .conftest import clicks, tone

SR = 22050


def _result(folder: Path, method: str, voice_gain: float = 1.0) -> SeparationResult:
    """A clip of a tone (the 'voice') over clicks (the 'band'), and its perfect stems."""
    folder.mkdir(parents=True, exist_ok=True)
    voice = tone(220, 0.3 * voice_gain, 6.0, SR)[0].astype(np.float32)
    band = clicks([0.25 + 0.5 * k for k in range(12)], 6.0, SR)
    paths = [
        save(folder / f"{name}.flac", x[None], SR)
        for name, x in (("song", voice + band), ("fg", voice), ("bg", band))
    ]
    return SeparationResult(*paths, base_url="local", method=method, elapsed=1.5)


def test_features_of_a_result_read_its_files(tmp_path: Path) -> None:
    result = _result(tmp_path, "repet")
    table = result.features()
    assert list(table.index) == ["original", "foreground", "background"]
    assert list(table.columns) == list(analysis.MEASURES)
    fg, bg = table.loc["foreground"], table.loc["background"]
    assert fg["voiced_fraction"] > 0.9 and np.isnan(fg["tempo_bpm"])
    assert bg["onset_rate"] == pytest.approx(2.0, abs=0.01) and np.isnan(bg["voiced_fraction"])
    assert bg["tempo_bpm"] == pytest.approx(120, abs=3)
    assert fg["peak_dbfs"] == pytest.approx(20 * np.log10(0.3), abs=0.01)
    decoded = result.stems().foreground.astype(np.float64)
    assert fg["loudness_lufs"] == pytest.approx(
        pyloudnorm.Meter(SR).integrated_loudness(decoded.T), abs=1e-6
    )
    # cached: a second call does not read the files again, and hands out a copy
    table.loc["foreground", "peak_dbfs"] = 99.0
    assert result.features().loc["foreground", "peak_dbfs"] < 0


def test_features_equal_for_file_backed_and_in_memory_stems(tmp_path: Path) -> None:
    result = _result(tmp_path, "repet")
    with Stems.from_files(result.original, result.foreground, result.background) as files:
        in_memory = Stems(files.original, files.foreground, files.background, files.sr)
        a = analysis.features(files, measures=["rms_dbfs", "centroid_hz", "onset_rate"])
    b = analysis.features(in_memory, measures=["rms_dbfs", "centroid_hz", "onset_rate"])
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-6)


def test_to_dataframe_has_a_row_per_clip_and_run(tmp_path: Path) -> None:
    results = [
        _result(tmp_path / "a", "spleeter"),
        _result(tmp_path / "b", "repet", voice_gain=0.5),
        InputError("broken.wav is not audio"),  # as separate_many(return_exceptions=True)
    ]
    df = analysis.to_dataframe(results)
    assert list(df["run"]) == ["spleeter", "repet"]
    assert list(df["clip"]) == ["song.flac", "song.flac"]
    assert df["duration_s"].tolist() == [6.0, 6.0]
    assert df["elapsed_s"].tolist() == [1.5, 1.5]
    gap = df["foreground_rms_dbfs"].iloc[0] - df["foreground_rms_dbfs"].iloc[1]
    assert gap == pytest.approx(6.02, abs=0.01)
    assert "background_tempo_bpm" in df and "foreground_voiced_fraction" in df
    with pytest.raises(InputError, match="not a result"):
        analysis.to_dataframe(results, skip_errors=False)
    with pytest.raises(InputError, match=r"analysis\.features\(stems\)"):
        analysis.to_dataframe([Stems(np.zeros((1, 9)), np.zeros((1, 9)), np.zeros((1, 9)), 8)])
