from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camb_notebook import audio
from camb_notebook._exceptions import InputError

from .conftest import SR, tone_mix


def test_stems_levels_and_residual() -> None:
    x = tone_mix(1.0)
    s = audio.Stems(x, 0.7 * x, 0.3 * x, SR)
    lv = s.levels()
    assert lv["residual"] < -100
    assert lv["foreground"] == pytest.approx(lv["original"] + 20 * np.log10(0.7), abs=0.01)
    assert s.duration == pytest.approx(1.0) and s.channels == 2


def test_stems_reject_mismatched_shapes() -> None:
    x = tone_mix(1.0)
    with pytest.raises(InputError, match="share one"):
        audio.Stems(x, x[:, :10], x, SR)


def test_from_files_aligns_rate_and_length(tmp_path: Path) -> None:
    x = tone_mix(3.0)
    orig = audio.save(tmp_path / "orig.wav", x, SR)
    # Stems come back at another rate and longer, as a service might send them.
    fg = audio.save(tmp_path / "fg.flac", audio.resample(0.5 * x, SR, 48000), 48000)
    bg_long = np.pad(audio.resample(0.5 * x, SR, 48000), ((0, 0), (0, 4800)))
    bg = audio.save(tmp_path / "bg.flac", bg_long, 48000)
    s = audio.Stems.from_files(orig, fg, bg)
    assert s.foreground.shape == x.shape and s.sr == SR
    assert audio.sdr(x, s.foreground + s.background) > 30


def test_mono_stems_fill_every_channel_of_a_stereo_original(tmp_path: Path) -> None:
    x = tone_mix(3.0)  # stereo, the channels differ
    mono = x.mean(axis=0, keepdims=True)
    from_arrays = audio.Stems.from_arrays(x, 0.7 * mono, 0.3 * mono, SR)
    fg = audio.save(tmp_path / "fg.flac", 0.7 * mono, SR)
    bg = audio.save(tmp_path / "bg.flac", 0.3 * mono, SR)
    from_files = audio.Stems.from_files(audio.save(tmp_path / "orig.wav", x, SR), fg, bg)
    for s in (from_arrays, from_files):
        assert s.foreground.shape == s.background.shape == x.shape
        for channel in range(2):  # each channel carries the mono stem
            assert audio.sdr(0.7 * mono[0], s.foreground[channel]) > 60
            assert audio.sdr(0.3 * mono[0], s.background[channel]) > 60


def test_stereo_stems_are_mixed_down_for_a_mono_original(tmp_path: Path) -> None:
    x = tone_mix(3.0)
    mono = x.mean(axis=0, keepdims=True)
    from_arrays = audio.Stems.from_arrays(mono, 0.7 * x, 0.3 * x, SR)
    fg = audio.save(tmp_path / "fg.flac", 0.7 * x, SR)
    bg = audio.save(tmp_path / "bg.flac", 0.3 * x, SR)
    from_files = audio.Stems.from_files(audio.save(tmp_path / "orig.wav", mono, SR), fg, bg)
    for s in (from_arrays, from_files):
        assert s.foreground.shape == s.background.shape == mono.shape
        # The average of the two channels, so the stems still add up to the original.
        assert audio.sdr(0.7 * mono, s.foreground) > 60
        assert audio.sdr(0.3 * mono, s.background) > 60
        assert audio.sdr(mono, s.foreground + s.background) > 60


def test_from_arrays_removes_codec_delay() -> None:
    x = tone_mix(8.0)
    rng = np.random.default_rng(3)
    x = x + 0.2 * rng.standard_normal(x.shape).astype(np.float32)  # broadband: clear peak
    delayed = np.pad(x, ((0, 0), (1105, 0)))  # AAC-style priming
    s = audio.Stems.from_arrays(x, 0.5 * delayed, 0.5 * delayed, SR)
    assert audio.sdr(x, s.foreground + s.background) > 60


def test_sdr_definition() -> None:
    ref = np.ones((2, 10))
    assert audio.sdr(ref, ref) > 100
    assert audio.sdr(ref, np.zeros_like(ref)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(InputError, match="differ"):
        audio.sdr(ref, ref[:, :5])


def test_rms_db_of_silence_and_sine() -> None:
    t = np.arange(SR) / SR
    assert audio.rms_db(np.sin(2 * np.pi * 100 * t)) == pytest.approx(-3.01, abs=0.01)
    assert audio.rms_db(np.zeros(5)) == -120.0


@pytest.fixture(scope="module")
def stem_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, list[Path]]:
    """A 25 s mix and stems as a service returns them: 48 kHz, mono, delayed, too long."""
    root = tmp_path_factory.mktemp("stems")
    rng = np.random.default_rng(5)
    x = (tone_mix(25.0) + 0.1 * rng.standard_normal((2, 25 * SR))).astype(np.float32)
    fg = np.pad(audio.resample(0.5 * x, SR, 48000).mean(axis=0, keepdims=True), ((0, 0), (1280, 0)))
    bg = np.pad(audio.resample(0.5 * x, SR, 48000), ((0, 0), (1280, 4800)))
    paths = [
        audio.save(root / "mix.flac", x, SR),
        audio.save(root / "fg.flac", fg, 48000),
        audio.save(root / "bg.flac", bg, 48000),
    ]
    return x, paths


def test_file_stems_align_like_array_stems(stem_files: tuple[np.ndarray, list[Path]]) -> None:
    x, (mix, fg, bg) = stem_files
    arrays = audio.Stems.from_arrays(x, audio.load(fg)[0], audio.load(bg)[0], SR, stem_sr=48000)
    with audio.Stems.from_files(mix, fg, bg) as files:
        assert (files.sr, files.channels, files.n_samples) == (SR, 2, x.shape[1])
        assert files.files == {"original": mix, "foreground": fg, "background": bg}
        for a, b in [(0, 1000), (10 * SR - 5, 10 * SR + 5), (x.shape[1] - 777, x.shape[1])]:
            w = files.read(a, b)
            assert (w.start, w.stop, w.sr) == (a, b, SR)
            for name, signal in w.items():
                assert np.max(np.abs(signal - getattr(arrays, name)[:, a:b])) < 1e-4, name
            assert np.max(np.abs(w.residual - arrays.residual[:, a:b])) < 1e-4
        levels = files.levels()
        for name, value in arrays.levels().items():
            assert levels[name] == pytest.approx(value, abs=0.05), name
        # The delay was found and removed (one sample off, this is about 4 dB); the mono
        # stem sits in both channels. The rest is the two resamplings' cut near 22 kHz.
        mono_half = np.repeat(0.5 * x.mean(axis=0, keepdims=True), 2, axis=0)
        assert audio.sdr(mono_half, files.foreground) > 15
        assert np.max(np.abs(files.foreground - arrays.foreground)) < 1e-4


def test_file_stems_stream_in_blocks(stem_files: tuple[np.ndarray, list[Path]]) -> None:
    x, paths = stem_files
    with audio.Stems.from_files(*paths) as stems:
        whole = stems.read()
        starts = []
        for w in stems.blocks(SR * 3, start=1.5, stop=20.0, unit="seconds"):
            starts.append(w.start)
            # The stems are resampled on the fly: a block restarts the resampler, which
            # changes the last bits of a float32, not more.
            assert np.max(np.abs(w.foreground - whole.foreground[:, w.start : w.stop])) < 1e-5
            assert np.max(np.abs(w.original - x[:, w.start : w.stop])) < 2**-22  # 24-bit
        assert starts == list(range(int(1.5 * SR), 20 * SR, 3 * SR))


def test_stem_windows_reject_bad_bounds() -> None:
    x = tone_mix(1.0)
    s = audio.Stems(x, x, x, SR)
    with pytest.raises(InputError, match=r"start=5, stop=2 is not a window"):
        s.read(5, 2)
    with pytest.raises(InputError, match="unit='bars'"):
        s.read(0, 1, unit="bars")  # type: ignore[arg-type]
    assert s.read(10 * SR).original.shape == (2, 0)


def test_sdr_of_files_in_blocks(tmp_path: Path) -> None:
    x = tone_mix(3.0)
    ref = audio.save(tmp_path / "ref.wav", x, SR)
    est = audio.save(tmp_path / "est.flac", audio.resample(0.9 * x, SR, 48000), 48000)
    expected = audio.sdr(x, audio.load(est, sr=SR)[0])
    assert audio.sdr_files(ref, est) == pytest.approx(expected, abs=1e-3)
    short = audio.save(tmp_path / "short.wav", x[:, :1000], SR)
    with pytest.raises(InputError, match=r"ref\.wav holds 2 channels × 132300 samples but short"):
        audio.sdr_files(ref, short)
    acc = audio.SdrAccumulator()
    for a in range(0, x.shape[1], 10000):
        acc.add(x[:, a : a + 10000], 0.9 * x[:, a : a + 10000])
    assert acc.value == pytest.approx(audio.sdr(x, 0.9 * x), abs=1e-4)


def test_levels_add_up_every_block() -> None:
    """A clip a few level blocks long: a loud stretch in the last block counts as much as one
    in the first (levels() sums the energy of every block, not the last one's)."""
    n = 3 * (1 << 16) + 1000  # the level block is 65536 samples
    fg = np.zeros((2, n), np.float32)
    fg[:, :1000] = 0.5  # only in the first block
    bg = np.zeros((2, n), np.float32)
    bg[:, -1000:] = 0.5  # only in the last block
    stems = audio.Stems(fg + bg, fg, bg, SR)
    levels = stems.levels()
    expected = 10 * np.log10(0.25 * 1000 / n)
    assert levels["foreground"] == pytest.approx(expected, abs=1e-3)
    assert levels["background"] == pytest.approx(expected, abs=1e-3)
    assert levels["original"] == pytest.approx(expected + 10 * np.log10(2), abs=1e-3)


def test_repr_and_items_say_what_backs_the_stems(tmp_path: Path) -> None:
    x = tone_mix()
    in_memory = audio.Stems(x, x, np.zeros_like(x), SR)
    assert repr(in_memory) == f"<Stems 2 ch × {x.shape[1]} samples at {SR} Hz (2.00 s, arrays)>"
    assert [name for name, _ in in_memory.items()] == ["original", "foreground", "background"]
    np.testing.assert_array_equal(in_memory.items()[1][1], x)
    paths = [audio.save(tmp_path / f"{k}.flac", x, SR) for k in ("o", "f", "b")]
    with audio.Stems.from_files(*paths) as on_disk:
        assert repr(on_disk).endswith("(2.00 s, files)>")


def test_file_stems_that_lead_and_stop_early_stream_zeros_outside(tmp_path: Path) -> None:
    """Stems 300 samples early (negative codec delay) and 5000 short: streamed blocks hold
    zeros before and after the stem's samples, exactly where ``read`` puts them."""
    n, lead, short = 3 * SR, 300, 5000
    rng = np.random.default_rng(7)
    x = (tone_mix(3.0) + 0.1 * rng.standard_normal((2, n))).astype(np.float32)
    fg = 0.5 * x[:, lead : n - short]
    bg = 0.5 * x[:, lead:]
    paths = [
        audio.save(tmp_path / f"{name}.wav", signal, SR)
        for name, signal in (("mix", x), ("fg", fg), ("bg", bg))
    ]
    expected_fg = 0.5 * x
    expected_fg[:, :lead] = 0
    expected_fg[:, n - short :] = 0
    with audio.Stems.from_files(*paths) as stems:
        whole = stems.read()
        np.testing.assert_array_equal(whole.foreground, expected_fg)
        assert {signal.dtype for _, signal in whole.items()} == {np.dtype(np.float32)}
        for start, stop in [(0, n), (0, 100), (100, 2000), (n - 7000, n), (n - 1000, n)]:
            windows = list(stems.blocks(128, start=start, stop=stop))
            assert [w.start for w in windows] == list(range(start, stop, 128))
            assert all(w.n_samples == min(128, stop - w.start) for w in windows)
            for name in ("original", "foreground", "background"):
                # float32 throughout, the zeros too (float64 would double every block).
                assert {getattr(w, name).dtype for w in windows} == {np.dtype(np.float32)}
                got = np.concatenate([getattr(w, name) for w in windows], axis=1)
                np.testing.assert_array_equal(got, getattr(whole, name)[:, start:stop], name)


@pytest.mark.parametrize("delay", [1, -300])
def test_from_arrays_aligns_stems_one_sample_late_or_early(delay: int) -> None:
    """The smallest delay and a negative one (stems that start early, their first samples
    missing): aligned sample for sample, zeros where the stem has no samples, float32
    whatever the input's dtype (half the memory of float64)."""
    n = 3 * SR
    rng = np.random.default_rng(11)
    x = tone_mix(3.0).astype(np.float64) + 0.1 * rng.standard_normal((2, n))
    stem = np.pad(0.5 * x, ((0, 0), (delay, 0))) if delay > 0 else 0.5 * x[:, -delay:]
    s = audio.Stems.from_arrays(x, stem, stem, SR)
    expected = (0.5 * x).astype(np.float32)
    expected[:, : max(-delay, 0)] = 0
    for name in ("original", "foreground", "background"):
        assert getattr(s, name).dtype == np.float32, name
    np.testing.assert_array_equal(s.foreground, expected)
    np.testing.assert_array_equal(s.background, expected)


def test_blocks_default_size_and_bounds() -> None:
    n = 2 * 65536 + 10
    x = np.full((2, n), 0.5)  # float64: held as float32
    s = audio.Stems(x, x, 0 * x, SR)
    assert {s.original.dtype, s.foreground.dtype, s.background.dtype} == {np.dtype(np.float32)}
    windows = [(w.start, w.n_samples, w.sr) for w in s.blocks()]
    assert windows == [(0, 65536, SR), (65536, 65536, SR), (131072, 10, SR)]
    assert [w.start for w in s.blocks(1, start=5, stop=8)] == [5, 6, 7]
    for bad in (0, -3):
        with pytest.raises(InputError, match=rf"^size={bad} must be a positive number of samples$"):
            next(s.blocks(bad))


def test_mismatched_shapes_are_named_in_order() -> None:
    with pytest.raises(
        InputError,
        match=r"^original, foreground and background must share one \(channels, n\) shape, "
        r"got \(2, 10\), \(2, 9\), \(1, 10\)$",
    ):
        audio.Stems(np.zeros((2, 10)), np.zeros((2, 9)), np.zeros((1, 10)), SR)


def _noise(n: int, scale: float = 0.3) -> np.ndarray:
    return (scale * np.random.default_rng(13).standard_normal((1, n))).astype(np.float32)


def _late(x: np.ndarray, k: int) -> np.ndarray:
    """*x* delayed by *k* samples (early by ``-k`` when negative), same length."""
    return (
        np.pad(x, ((0, 0), (k, 0)))[:, : x.shape[1]]
        if k >= 0
        else np.pad(x[:, -k:], ((0, 0), (0, -k)))
    )


def test_codec_delay_searches_4096_samples_either_way() -> None:
    from camb_notebook.audio._stems import _codec_delay

    x = _noise(40000)
    for k in (4096, -4096, 100, -100, 1):
        assert _codec_delay(x, _late(x, k)) == k
    for k in (4097, -4097):  # outside the search: never reported, nothing past it either
        found = _codec_delay(x, _late(x, k))
        assert found != k and abs(found) <= 4096, found


def test_codec_delay_needs_four_times_the_search_of_overlap() -> None:
    from camb_notebook.audio._stems import _codec_delay

    x = _noise(40000)
    assert _codec_delay(x[:, :16384], _late(x, 100)[:, :16384]) == 100  # exactly enough
    assert _codec_delay(x[:, :16383], _late(x, 100)) == 0  # the original is too short
    assert _codec_delay(x, _late(x, 100)[:, :16383]) == 0  # the stems are too short


def test_codec_delay_only_for_a_clear_peak() -> None:
    """A delayed copy 1.6 times as strong as the undelayed one is a delay; at 1.1 times it is
    an echo, not clearly later than the mix, so nothing is shifted. Quiet stems count too."""
    from camb_notebook.audio._stems import _codec_delay

    x = _noise(40000)
    assert _codec_delay(x, x + 1.6 * _late(x, 500)) == 500
    assert _codec_delay(x, x + 1.1 * _late(x, 500)) == 0
    quiet = _noise(40000, scale=1e-3)
    assert _codec_delay(quiet, _late(quiet, 100)) == 100


def test_stems_need_a_positive_rate() -> None:
    x = np.zeros((1, 10), np.float32)
    for sr in (0, -8000):
        with pytest.raises(InputError, match=rf"^sr={sr} must be a positive sample rate$"):
            audio.Stems(x, x, x, sr)
    assert audio.Stems(x, x, x, 1).sr == 1
