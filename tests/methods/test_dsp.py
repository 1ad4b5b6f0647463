"""The DSP building blocks: block STFT round trip, Wiener EM, the median network."""

from __future__ import annotations

import numpy as np
import pytest

from camb_notebook.methods._stft import OverlapAdd, hann, n_frames, stft_block
from camb_notebook.methods._wiener import wiener
from camb_notebook.methods.repet import _median_network


@pytest.mark.parametrize("n", [1, 100, 1023, 4096, 10_001, 50_000])
def test_blockwise_stft_round_trip_is_exact(n: int) -> None:
    x = np.random.default_rng(n).normal(size=(2, n)).astype(np.float32)
    w = hann(4096)
    total = n_frames(n, 1024)
    out = np.zeros_like(x)
    ola = OverlapAdd([out], 4096, 1024, w)
    for a in range(0, total, 7):  # odd block size: blocks must not matter
        b = min(a + 7, total)
        ola.add(a, [stft_block(x, a, b, 4096, 1024, w)])
    ola.finish()
    np.testing.assert_allclose(out, x, atol=2e-5)


def test_stft_block_matches_whole_signal_stft_and_zeroes_frames_past_the_end() -> None:
    x = np.random.default_rng(1).normal(size=(1, 9000)).astype(np.float32)
    w = hann(2048)
    total = n_frames(9000, 512)
    whole = stft_block(x, 0, total + 3, 2048, 512, w)
    part = stft_block(x, 5, 9, 2048, 512, w)
    np.testing.assert_allclose(part, whole[:, :, 5:9], atol=1e-4)
    assert not whole[:, :, total:].any()
    # frame 0 is centred on sample 0: the rfft of the zero-padded, windowed first half-frame
    ref = np.fft.rfft(np.concatenate([np.zeros(1024), x[0, :1024]]) * w)
    np.testing.assert_allclose(whole[0, :, 0], ref, atol=1e-3)


def _panned_sources(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (1, 64, 200)
    a = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    b = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    left = np.array([1.0, 0.2])[:, None, None]
    right = np.array([0.2, 1.0])[:, None, None]
    return (a * left).astype(np.complex64), (b * right).astype(np.complex64)


def _sdr(ref: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(np.abs(ref) ** 2) / np.sum(np.abs(ref - est) ** 2)))


def test_wiener_uses_spatial_covariance_to_separate_panned_sources() -> None:
    s1, s2 = _panned_sources()
    x = s1 + s2
    # Per-channel masks that only lean toward the right side (what a stereo mask net gives):
    # the EM has to find the spatial images itself.
    lean = np.array([0.6, 0.4], np.float32)[:, None, None]
    start = np.stack([lean * x, (1 - lean) * x])
    refined = wiener(x, start, iterations=3)
    assert _sdr(s1, refined[0]) > _sdr(s1, start[0]) + 3.0
    # the sum is the mixture up to the 0.01 % diagonal loading of the covariance
    assert np.sum(np.abs(refined.sum(axis=0) - x) ** 2) < 1e-6 * np.sum(np.abs(x) ** 2)


def test_wiener_keeps_silence_silent_and_zero_iterations_is_identity() -> None:
    x = np.zeros((2, 16, 10), np.complex64)
    y = np.stack([x, x])
    out = wiener(x, y, iterations=2)
    assert np.isfinite(out).all() and not out.any()
    assert wiener(x, y, iterations=0) is y
    with pytest.raises(ValueError, match="stereo"):
        wiener(np.zeros((1, 4, 4), np.complex64), np.zeros((2, 1, 4, 4), np.complex64))


@pytest.mark.parametrize("k", [1, 2, 5, 8, 15])
def test_median_network_equals_numpy_median(k: int) -> None:
    rng = np.random.default_rng(k)
    stack = [rng.random((7, 11), dtype=np.float32) for _ in range(k)]
    expected = np.median(np.stack(stack), axis=0)
    np.testing.assert_allclose(_median_network([s.copy() for s in stack]), expected, rtol=1e-6)
