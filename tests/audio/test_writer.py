from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camb_notebook import audio
from camb_notebook._exceptions import InputError

from .conftest import SR, lag, tone_mix


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_blocks_of_any_size_make_the_same_flac_as_one_array(tmp_path: Path) -> None:
    x = tone_mix(3.0)
    with audio.open_writer(tmp_path / "blocks.flac", SR, 2) as w:
        for a, b in [(0, 1), (1, 4097), (4097, 50000), (50000, x.shape[1])]:
            w.write(x[:, a:b])
    assert (w.frames_written, w.clipped_samples) == (x.shape[1], 0)
    y, sr = audio.load(w.path)
    assert sr == SR and y.shape == x.shape
    assert np.max(np.abs(x - y)) < 2**-22  # 24-bit
    assert _leftovers(tmp_path) == ["blocks.flac"]


def test_wav_keeps_floats_and_flac_counts_what_it_clips(tmp_path: Path) -> None:
    loud = np.full((2, 100), 1.5, np.float32)
    with audio.open_writer(tmp_path / "a.wav", SR, 2) as wav:
        wav.write(loud)
    with audio.open_writer(tmp_path / "a.flac", SR, 2) as flac:
        flac.write(loud)
    assert wav.clipped_samples == 0 and audio.load(wav.path)[0].max() == 1.5
    assert flac.clipped_samples == 200 and audio.load(flac.path)[0].max() <= 1.0


@pytest.mark.parametrize("ext", ["mp3", "m4a", "ogg"])
def test_lossy_formats_stream_too(tmp_path: Path, ext: str) -> None:
    x = tone_mix(2.0)
    with audio.open_writer(tmp_path / f"x.{ext}", SR, 2, bitrate=128000) as w:
        for a in range(0, x.shape[1], 10000):
            w.write(x[:, a : a + 10000])
    with audio.open_audio(w.path, sr=SR) as reader:
        y = reader.read()
    assert abs(y.shape[1] - x.shape[1]) <= 1 and lag(x, y) == 0


def test_the_file_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "stem.flac"
    with audio.open_writer(target, SR, 2) as w:
        w.write(tone_mix(0.5))
        assert not target.exists()  # still a hidden temporary file
        assert len(_leftovers(tmp_path)) == 1 and _leftovers(tmp_path)[0].endswith(".part")
    assert _leftovers(tmp_path) == ["stem.flac"]


def test_an_exception_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "stem.flac"
    with (
        pytest.raises(RuntimeError, match="separation failed"),
        audio.open_writer(target, SR, 2) as w,
    ):
        w.write(tone_mix(0.5))
        raise RuntimeError("separation failed")
    assert _leftovers(tmp_path) == []


def test_an_exception_keeps_an_older_complete_file(tmp_path: Path) -> None:
    target = audio.save(tmp_path / "stem.flac", tone_mix(1.0), SR)
    before = target.read_bytes()
    with pytest.raises(KeyboardInterrupt), audio.open_writer(target, SR, 2) as w:
        w.write(np.zeros((2, 100), np.float32))
        raise KeyboardInterrupt
    assert target.read_bytes() == before and _leftovers(tmp_path) == ["stem.flac"]


def test_a_writer_dropped_without_closing_leaves_nothing(tmp_path: Path) -> None:
    w = audio.open_writer(tmp_path / "stem.flac", SR, 1)
    w.write(np.zeros(100, np.float32))
    del w
    assert _leftovers(tmp_path) == []


def test_bad_blocks_and_formats_name_the_value(tmp_path: Path) -> None:
    with audio.open_writer(tmp_path / "x.flac", SR, 2) as w:
        with pytest.raises(InputError, match=r"block shape \(1, 10\) has 1 channels; .*channels=2"):
            w.write(np.zeros((1, 10), np.float32))
        w.write(np.zeros((2, 10), np.float32))
    with pytest.raises(InputError, match="the writer is closed"):
        w.write(np.zeros((2, 10), np.float32))
    with pytest.raises(InputError, match="format='xyz' is not one we encode"):
        audio.open_writer(tmp_path / "x.xyz", SR, 2)
    with pytest.raises(InputError, match="sr=0 must be a positive"):
        audio.open_writer(tmp_path / "y.flac", 0, 2)
    assert _leftovers(tmp_path) == ["x.flac"]
