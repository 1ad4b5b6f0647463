"""The mask lab: its knobs, its inverse STFT (librosa's, to rounding), its scores."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from camb_notebook._exceptions import ConfigurationError, InputError
from camb_notebook.audio import Stems, sdr
from camb_notebook.lab import MaskLab, sharpen
from camb_notebook.methods import SoftMasks, ideal_ratio_mask

SR = 16000


@pytest.fixture(scope="module")
def truth() -> Stems:
    t = np.arange(4 * SR) / SR
    voice = np.stack([np.sin(2 * np.pi * 440 * t), 0.8 * np.sin(2 * np.pi * 440 * t)]) * 0.4
    band = np.random.default_rng(0).uniform(-0.2, 0.2, (2, t.size))
    return Stems(voice + band, voice, band, SR)


def _masks(truth: Stems) -> dict[str, SoftMasks]:
    # The oracle on another grid (4096/1024) and an even share on the lab's own.
    oracle = ideal_ratio_mask(truth.foreground, truth.background, SR, n_fft=4096, hop=1024)
    even = np.full((2, 1025, 1 + truth.n_samples // 512), 0.5, np.float32)
    return {"oracle": oracle, "even": SoftMasks(even, even, SR, 2048, 512, "even")}


def test_knobs_move_the_scores_as_they_should(truth: Stems) -> None:
    lab = MaskLab(truth, _masks(truth), start=1.0, seconds=2.0)
    oracle, even = lab.apply(blend=0.0), lab.apply(blend=1.0)
    assert oracle.sdr_foreground > 15 and even.sdr_foreground < 8
    assert lab.apply(blend=0.5).sdr_foreground == pytest.approx(
        (oracle.sdr_foreground + even.sdr_foreground) / 2, abs=6
    )
    # the scores are audio.sdr's, and the stems add up to the span of the mixture
    span = truth.read(1.0, 3.0, unit="seconds")
    assert oracle.sdr_foreground == pytest.approx(sdr(span.foreground, oracle.foreground), abs=1e-3)
    np.testing.assert_allclose(oracle.foreground + oracle.background, span.original, atol=1e-6)
    # an even share cannot be sharpened; the oracle's own SDR bounds a regridded oracle
    assert lab.apply(blend=1.0, sharpness=3.0).sdr_foreground == pytest.approx(
        even.sdr_foreground, abs=1e-3
    )
    assert lab.oracle().sdr_foreground >= oracle.sdr_foreground - 1


def test_the_inverse_is_librosas(truth: Stems) -> None:
    lab = MaskLab(truth, _masks(truth), seconds=3.0)
    F = lab.mask(blend=0.2, sharpness=1.7) * lab.X
    expected = librosa.istft(F, hop_length=512, n_fft=2048, length=lab.n)
    np.testing.assert_allclose(lab._istft(F), expected, atol=1e-6)


def test_wiener_iterations_use_the_filter_given(truth: Stems) -> None:
    calls = []

    def wiener(x: np.ndarray, y: np.ndarray, iterations: int) -> np.ndarray:
        calls.append((x.shape, y.shape, iterations))
        return y[::-1]  # swap the stems: the foreground becomes what was the background

    lab = MaskLab(truth, _masks(truth), seconds=2.0, wiener=wiener)
    swapped = lab.apply(blend=0.0, iterations=2)
    plain = lab.apply(blend=0.0)
    assert calls == [((2, 1025, lab.X.shape[-1]), (2, 2, 1025, lab.X.shape[-1]), 2)]
    np.testing.assert_allclose(swapped.foreground, plain.background, atol=1e-5)


def test_the_default_wiener_filter_keeps_an_even_share_and_refines_a_blend(truth: Stems) -> None:
    # The voice is panned (1 : 0.8), the noise is not: the filter's stereo model tells them
    # apart where an even mask cannot, and the stems still add up to the mixture.
    lab = MaskLab(truth, _masks(truth), start=1.0, seconds=2.0)
    assert lab.has_wiener
    # an even share stays even (both stems look alike to the filter); half of the oracle in it
    # is enough for the filter to find the voice's image and pull the stems apart
    assert lab.apply(blend=1.0, iterations=2).sdr_foreground == pytest.approx(
        lab.apply(blend=1.0).sdr_foreground, abs=0.1
    )
    plain = lab.apply(blend=0.5)
    refined = lab.apply(blend=0.5, iterations=2)
    assert refined.sdr_foreground > plain.sdr_foreground + 6, (plain, refined)
    np.testing.assert_allclose(refined.foreground + refined.background, lab.mixture, atol=1e-5)


def test_clear_errors(truth: Stems) -> None:
    masks = _masks(truth)
    with pytest.raises(InputError, match="up to 5 s"):
        MaskLab(truth, masks, seconds=6.0)
    with pytest.raises(InputError, match=r"start between 0 and 1\.00 s"):
        MaskLab(truth, masks, start=2.0, seconds=3.0)
    with pytest.raises(InputError, match="two methods"):
        MaskLab(truth, {"oracle": masks["oracle"]})
    lab = MaskLab(truth, masks, seconds=1.0)
    with pytest.raises(InputError, match=r"blend=1\.5"):
        lab.apply(blend=1.5)
    with pytest.raises(InputError, match="sharpness=0"):
        sharpen(np.zeros(3), 0)
    assert lab.preview(lab.apply().foreground)[:4] == b"OggS"
    mono = Stems(truth.original[:1], truth.foreground[:1], truth.background[:1], SR)
    mono_masks = {name: _mono(m) for name, m in masks.items()}
    mono_lab = MaskLab(mono, mono_masks, seconds=1.0)
    assert not mono_lab.has_wiener
    with pytest.raises(ConfigurationError, match=r"1 channel; use iterations=0"):
        mono_lab.apply(iterations=1)


def _mono(m: SoftMasks) -> SoftMasks:
    return SoftMasks(m.foreground[:1], m.background[:1], m.sr, m.n_fft, m.hop, m.method)
