"""One streamed pass makes every lane's pictures and the preview; memory does not follow length."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from camb_notebook.audio import Stems
from camb_notebook.viz import peaks, spectrogram_db
from camb_notebook.widget._media import PEAK_BINS, LaneTap, prepare_visuals, spectrogram_scale
from camb_notebook.widget._prepare import prepare_lanes
from camb_notebook.widget._states import LANES

from .conftest import SR, make_stems


def _files(folder: Path, seconds: float, sr: int, channels: int = 2) -> tuple[Path, Path, Path]:
    """A mix and its two stems as 16-bit WAV files, written block by block."""
    rng = np.random.default_rng(7)
    paths = tuple(folder / f"{name}.wav" for name in ("mix", "fg", "bg"))
    n, step = int(seconds * sr), 1 << 16
    files = [sf.SoundFile(p, "w", sr, channels, subtype="PCM_16") for p in paths]
    try:
        for a in range(0, n, step):
            m = min(step, n - a)
            t = (a + np.arange(m)) / sr
            fg = np.repeat((0.3 * np.sin(2 * np.pi * 330 * t))[:, None], channels, axis=1)
            bg = 0.05 * rng.standard_normal((m, channels))
            for f, x in zip(files, (fg + bg, fg, bg), strict=True):
                f.write(x)
    finally:
        for f in files:
            f.close()
    return paths  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("n", "block", "channels"), [(900, 7, 2), (30_000, 4096, 1), (5_000_017, 65536, 2)]
)
def test_a_lane_tap_gives_what_the_whole_array_functions_give(n, block, channels):
    x = (np.random.default_rng(0).standard_normal((channels, n)) * 0.1).astype(np.float32)
    tap = LaneTap("original", n, channels, 44100)
    for start in range(0, n, block):
        tap.add(np.ascontiguousarray(x[:, start : start + block]), start)
    S_db, freqs = tap.spectrogram_db()
    whole, _, whole_freqs = spectrogram_db(x, 44100, n_fft=2048, max_frames=2400)
    np.testing.assert_array_equal(S_db, whole)
    np.testing.assert_array_equal(freqs, whole_freqs)
    env = np.frombuffer(tap.visuals(scale=(-80.0, 0.0)).peaks, "<f4").reshape(2, PEAK_BINS)
    np.testing.assert_array_equal(env, peaks(x, PEAK_BINS))
    assert tap.level_db == pytest.approx(
        10 * np.log10(np.mean(x.astype(np.float64) ** 2)), abs=1e-4
    )


def test_blocks_out_of_order_are_refused():
    tap = LaneTap("foreground", 1000, 1, 8000)
    with pytest.raises(ValueError, match="in order"):
        tap.add(np.zeros((1, 10), np.float32), 500)


def test_one_pass_gives_the_lanes_the_scale_the_levels_and_the_preview(tmp_path):
    fg, bg = make_stems(3.0)
    mix, fg_path, bg_path = tmp_path / "mix.wav", tmp_path / "fg.flac", tmp_path / "bg.flac"
    sf.write(mix, (fg + bg).T, SR, subtype="FLOAT")
    sf.write(fg_path, fg.T, SR)
    sf.write(bg_path, bg.T, SR)
    with Stems.from_files(mix, fg_path, bg_path) as stems:
        seen: list[float] = []
        lanes = prepare_lanes(stems, bitrate=32000, progress=seen.append)
        assert sorted(lanes.visuals) == sorted(LANES) and lanes.preview.channels == 8
        assert lanes.scale == pytest.approx(spectrogram_scale(stems))
        for lane in LANES:  # the one-lane path agrees with the shared pass
            alone = prepare_visuals(stems, lane, scale=lanes.scale)
            shared = lanes.visuals[lane]
            assert (shared.peaks, shared.spectrogram) == (alone.peaks, alone.spectrogram)
            assert shared.level_db == pytest.approx(alone.level_db, abs=1e-4)
        assert lanes.levels == pytest.approx(stems.levels(), abs=1e-3)
    assert len(seen) >= 10 and seen == sorted(seen) and seen[-1] == 1.0
    assert lanes.preview.audio[:4] == b"OggS" and len(lanes.preview.headroom) == 16


def test_an_error_in_the_pass_stops_its_threads(tmp_path):
    paths = _files(tmp_path, 20.0, 8000)

    def cancel(fraction: float) -> None:
        if fraction > 0.3:
            raise KeyboardInterrupt("cancelled")

    import threading

    before = set(threading.enumerate())
    with Stems.from_files(*paths) as stems, pytest.raises(KeyboardInterrupt):
        prepare_lanes(stems, bitrate=16000, progress=cancel)
    assert set(threading.enumerate()) <= before


def _peak_bytes(paths: tuple[Path, Path, Path]) -> int:
    """Peak traced allocation of one pass, less the preview file it makes (the product:
    its size is bitrate × duration, and the widget chooses the bitrate by duration)."""
    with Stems.from_files(*paths) as stems:
        gc.collect()
        tracemalloc.start()
        try:
            lanes = prepare_lanes(stems, bitrate=8000)
            return tracemalloc.get_traced_memory()[1] - len(lanes.preview.audio)
        finally:
            tracemalloc.stop()


def test_memory_does_not_grow_with_the_clip(tmp_path):
    # Mono at the preview's own rate keeps this quick; both clips are long enough for the
    # full 2400 spectrogram frames, so the results (fixed size) are the same and only the
    # streaming could differ.
    sr, short, factor = 48000, 30.0, 4
    for name in ("warm", "short", "long"):
        (tmp_path / name).mkdir()
    _peak_bytes(_files(tmp_path / "warm", 1.0, sr, channels=1))  # imports and caches aside
    small = _peak_bytes(_files(tmp_path / "short", short, sr, channels=1))
    large = _peak_bytes(_files(tmp_path / "long", factor * short, sr, channels=1))
    one_signal = int(factor * short * sr) * 4  # one lane of the long clip, float32: 23 MB
    # Holding any one lane of the long clip whole would add ~17 MB; blocks add nothing (the
    # margin covers the few blocks queued between the threads).
    assert large < small + one_signal // 4, (small, large)
