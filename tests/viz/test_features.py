"""Peaks, dB spectrograms, PNG rendering and the shared colour scale."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

import camb_notebook.viz as viz
from camb_notebook._exceptions import InputError
from camb_notebook.viz import db_range, peaks, spectrogram_db, spectrogram_png

SR = 16000


def _sine(freq: float, seconds: float, amp: float = 1.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_all_is_sorted_and_every_name_is_exported() -> None:
    # ruff's isort-style order (RUF022): CONSTANTS, then Classes, then functions.
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert viz.__all__ == sorted(viz.__all__, key=kind)
    for name in viz.__all__:
        obj = getattr(viz, name)
        if name.isupper():  # module constants
            assert isinstance(obj, (int, tuple, dict)), name
        else:
            assert callable(obj) and obj.__name__ == name and obj.__doc__, name
            assert ">>>" in obj.__doc__, f"{name} has no example"


# --- peaks ------------------------------------------------------------------------------


def test_peaks_of_a_sine_is_its_amplitude_envelope() -> None:
    env = peaks(_sine(50.0, 2.0, amp=0.4), 40)  # 0.05 s per bin: 2.5 periods each
    assert env.shape == (2, 40) and env.dtype == np.float32
    np.testing.assert_allclose(env[0], -0.4, atol=1e-3)
    np.testing.assert_allclose(env[1], 0.4, atol=1e-3)


def test_a_click_lands_in_the_bin_of_its_time() -> None:
    x = np.zeros((2, 10_000), dtype=np.float32)
    x[1, 7_349] = 0.9  # bin 73 of 100 (100 samples per bin), right channel only
    x[0, 2_000] = -0.5  # bin 20, left channel only
    env = peaks(x, 100)
    assert np.flatnonzero(env[1]).tolist() == [73]
    assert np.flatnonzero(env[0]).tolist() == [20]
    assert env[1, 73] == pytest.approx(0.9) and env[0, 20] == pytest.approx(-0.5)


def test_peaks_with_uneven_bins_cover_every_sample() -> None:
    x = np.zeros(1_001, dtype=np.float32)
    x[-1] = 1.0  # the very last sample must appear in the last bin
    x[0] = -1.0
    env = peaks(x, 7)
    assert env[1, -1] == 1.0 and env[0, 0] == -1.0
    assert np.count_nonzero(env) == 2


def test_peaks_with_more_bins_than_samples_keep_a_linear_time_axis() -> None:
    env = peaks(np.array([0.0, 1.0, 0.0, -1.0], dtype=np.float32), 8)
    np.testing.assert_array_equal(env[1], [0, 0, 1, 1, 0, 0, -1, -1])
    np.testing.assert_array_equal(env[0], env[1])


def test_peaks_of_int16_pcm_are_scaled_to_full_scale() -> None:
    env = peaks(np.array([-32768, 16384], dtype=np.int16), 1)
    np.testing.assert_allclose(env[:, 0], [-1.0, 0.5])


def test_peaks_of_an_empty_clip_are_zero() -> None:
    assert not peaks(np.zeros((2, 0), dtype=np.float32), 5).any()


@pytest.mark.parametrize("n_bins", [0, -3, 2.5, True])
def test_peaks_reject_bad_bin_counts(n_bins: object) -> None:
    with pytest.raises(InputError, match="n_bins"):
        peaks(np.zeros(10), n_bins)  # type: ignore[arg-type]


def test_peaks_reject_three_dimensional_audio() -> None:
    with pytest.raises(InputError, match=r"shape \(2, 3, 4\)"):
        peaks(np.zeros((2, 3, 4)), 4)


# --- spectrogram ------------------------------------------------------------------------


def test_spectrogram_of_a_sine_peaks_at_its_frequency_and_level() -> None:
    S, times, freqs = spectrogram_db(_sine(1000.0, 1.0, amp=0.5), SR, n_fft=1024, hop=256)
    assert S.shape == (513, 1 + SR // 256) == (freqs.size, times.size)
    assert S.dtype == np.float32
    middle = S[:, 10:-10]
    assert np.all(freqs[middle.argmax(axis=0)] == 1000.0)
    # Half scale is -6.02 dB, read on an absolute scale.
    np.testing.assert_allclose(middle.max(axis=0), 20 * np.log10(0.5), atol=0.05)
    assert times[1] - times[0] == pytest.approx(256 / SR)
    assert freqs[-1] == pytest.approx(SR / 2)


def test_spectrogram_downmixes_channels() -> None:
    left, right = _sine(500.0, 0.5), _sine(3000.0, 0.5)
    S, _, freqs = spectrogram_db(np.stack([left, right]), SR, n_fft=512)
    col = S[:, S.shape[1] // 2]
    top_two = sorted(freqs[np.argsort(col)[-2:]].tolist())
    assert top_two == [500.0, 3000.0]
    # Each tone is half the mono mix: about -6 dB.
    np.testing.assert_allclose(col.max(), -6.02, atol=0.1)


def test_spectrogram_max_frames_bounds_the_frame_count() -> None:
    x = np.random.default_rng(0).standard_normal(SR * 10).astype(np.float32)
    for max_frames in (1, 2, 7, 100, 313):
        S, times, _ = spectrogram_db(x, SR, max_frames=max_frames)
        # Met exactly: the hop is the smallest that keeps within the bound.
        assert S.shape[1] == max_frames and times.size == max_frames
    # The hop never drops below n_fft // 4, so a generous bound is not filled.
    assert spectrogram_db(x, SR, max_frames=10_000)[0].shape[1] == 1 + SR * 10 // 512


def test_spectrogram_of_silence_sits_at_the_floor() -> None:
    S, _, _ = spectrogram_db(np.zeros(4000, dtype=np.float32), SR, n_fft=256, amin=1e-5)
    np.testing.assert_allclose(S, -100.0)


def test_spectrogram_rejects_bad_arguments() -> None:
    x = np.zeros(1000, dtype=np.float32)
    with pytest.raises(InputError, match="sr=0"):
        spectrogram_db(x, 0)
    with pytest.raises(InputError, match="n_fft"):
        spectrogram_db(x, SR, n_fft=0)
    with pytest.raises(InputError, match="max_frames=2"):
        spectrogram_db(x, SR, hop=10, max_frames=2)


def test_spectrogram_of_a_ten_minute_clip_is_fast() -> None:
    # 10 min of 44.1 kHz stereo at the default hop; a guard against quadratic slips,
    # with a loose bound for a shared 2-core machine (it takes about 1 s).
    x = np.zeros((2, 44100 * 600), dtype=np.float32)
    start = time.perf_counter()
    env = peaks(x, 2000)
    S, _, _ = spectrogram_db(x, 44100, max_frames=4000)
    assert env.shape == (2, 2000) and S.shape[1] <= 4000
    assert time.perf_counter() - start < 5.0


# --- colour scale and PNG ---------------------------------------------------------------


def test_db_range_spans_all_spectrograms() -> None:
    loud = np.full((4, 4), -3.0)
    quiet = np.full((4, 2), -40.0)
    assert db_range(loud, quiet, dynamic_range=70) == (-73.0, -3.0)
    assert db_range(quiet, loud) == db_range(loud, quiet)
    with pytest.raises(InputError, match="dynamic_range=0"):
        db_range(loud, dynamic_range=0)
    with pytest.raises(InputError, match="at least one"):
        db_range()


def _decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_png_has_the_requested_size_and_low_frequencies_at_the_bottom() -> None:
    S = np.full((513, 300), -80.0, dtype=np.float32)
    S[:20] = 0.0  # loud low band
    image = _decode(spectrogram_png(S, -80.0, 0.0, height=100, width=150))
    assert image.format == "PNG" and image.size == (150, 100)
    rgb = np.asarray(image.convert("RGB"), dtype=int)
    bottom, top = rgb[-1].sum(axis=1), rgb[0].sum(axis=1)
    assert np.all(bottom > top)  # magma: loud is bright


def test_png_keeps_one_column_per_frame_by_default() -> None:
    image = _decode(spectrogram_png(np.zeros((64, 37)), -1.0, 0.0, height=16))
    assert image.size == (37, 16)


def test_png_colours_follow_the_given_scale_not_the_data() -> None:
    # The same -40 dB field drawn on two scales gets two colours: the scale is honoured.
    S = np.full((32, 8), -40.0, dtype=np.float32)
    a = np.asarray(_decode(spectrogram_png(S, -80, 0, height=8)).convert("RGB"))
    b = np.asarray(_decode(spectrogram_png(S, -40, 0, height=8)).convert("RGB"))
    assert not np.array_equal(a[0, 0], b[0, 0])
    black = np.asarray(_decode(spectrogram_png(S, -40, 0, height=8, cmap="gray")).convert("L"))
    assert black.max() == 0  # at vmin exactly: the bottom of the map


def test_png_max_pools_a_short_click_into_view() -> None:
    S = np.full((64, 4000), -80.0, dtype=np.float32)
    S[:, 2345] = 0.0  # one loud frame among 4000, drawn 100 pixels wide
    lum = np.asarray(
        _decode(spectrogram_png(S, -80, 0, height=8, width=100, cmap="gray")).convert("L")
    )
    assert np.flatnonzero(lum[0]).tolist() == [2345 * 100 // 4000]


def test_png_log_frequency_axis_gives_low_notes_more_rows() -> None:
    S, _, freqs = spectrogram_db(_sine(200.0, 1.0), SR, n_fft=1024)
    lin = np.asarray(_decode(spectrogram_png(S, -60, 0, height=200, cmap="gray")).convert("L"))
    log = np.asarray(
        _decode(
            spectrogram_png(S, -60, 0, height=200, cmap="gray", freqs=freqs, log_freq=True)
        ).convert("L")
    )
    row_lin = 199 - int(lin[:, 30].argmax())
    row_log = 199 - int(log[:, 30].argmax())
    assert row_lin == pytest.approx(200 * 200 / 8000, abs=1.5)
    expected = 200 * np.log(200 / 30) / np.log(8000 / 30)
    assert row_log == pytest.approx(expected, abs=2)


def test_png_rejects_bad_arguments() -> None:
    S = np.zeros((10, 10))
    with pytest.raises(InputError, match="vmin=0"):
        spectrogram_png(S, 0, 0)
    with pytest.raises(InputError, match="cmap='nope'"):
        spectrogram_png(S, -1, 0, cmap="nope")
    with pytest.raises(InputError, match="needs freqs"):
        spectrogram_png(S, -1, 0, log_freq=True)
    with pytest.raises(InputError, match=r"shape \(0,\)"):
        spectrogram_png(np.zeros(0), -1, 0)
