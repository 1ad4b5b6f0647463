"""The DSP building blocks: block STFT round trip, Wiener EM, the median network."""

from __future__ import annotations

import numpy as np
import pytest

from camb_notebook.methods._stft import FrameSource, OverlapAddStream, hann, n_frames, stft_block
from camb_notebook.methods._wiener import wiener
from camb_notebook.methods.repet import _median_network


@pytest.mark.parametrize("n", [1, 100, 1023, 4096, 10_001, 50_000])
def test_blockwise_stft_round_trip_is_exact(n: int) -> None:
    x = np.random.default_rng(n).normal(size=(2, n)).astype(np.float32)
    w = hann(4096)
    total = n_frames(n, 1024)
    ola = OverlapAddStream(2, 4096, 1024, w)
    parts = []
    for a in range(0, total, 7):  # odd block size: blocks must not matter
        b = min(a + 7, total)
        parts += ola.add(a, [stft_block(x, a, b, 4096, 1024, w)])
    parts += ola.finish(n)
    out = np.concatenate(parts, axis=1)
    assert out.shape == x.shape
    np.testing.assert_allclose(out, x, atol=2e-5)


@pytest.mark.parametrize(("n_fft", "hop"), [(4096, 1024), (16, 4)])
@pytest.mark.parametrize("n", [0, 5, 1023, 4096, 9000, 60_001])
def test_overlap_add_stream_returns_the_same_samples_whatever_the_blocks(
    n_fft: int, hop: int, n: int
) -> None:
    rng = np.random.default_rng(n)
    x = rng.normal(size=(2, n)).astype(np.float32)
    w = hann(n_fft)
    total = n_frames(n, hop)
    spec = stft_block(x, 0, total, n_fft, hop, w)
    spec *= rng.random(spec.shape[1:]).astype(np.float32)  # a mask: not a plain round trip

    def run(sizes) -> np.ndarray:
        ola = OverlapAddStream(2, n_fft, hop, w, stems=2)
        parts, a = [], 0
        for k in sizes:
            b = min(a + k, total)
            fg, bg = ola.add(a, [spec[:, :, a:b], 2 * spec[:, :, a:b]])
            np.testing.assert_array_equal(bg, 2 * fg)
            parts.append(fg)
            # a sample is returned as soon as every frame covering it was added
            assert ola.emitted == max(0, b * hop - n_fft // 2)
            a = b
            if a == total:
                break
        parts.append(ola.finish(n)[0])
        return np.concatenate(parts, axis=1)

    whole = run([total])
    blocks = run(rng.integers(1, 40, size=total + 1))
    assert whole.shape == blocks.shape == (2, n)
    # the same sums; only the FFT's rounding may differ with the batch of frames it gets
    np.testing.assert_allclose(blocks, whole, rtol=0, atol=1e-5)
    # and the samples equal a plain full-length overlap-add divided by the window envelope
    frames = np.fft.irfft(spec.transpose(0, 2, 1).astype(np.complex128), n=n_fft) * w
    acc = np.zeros((2, (total - 1) * hop + n_fft))
    env = np.zeros(acc.shape[1])
    for f in range(total):
        acc[:, f * hop : f * hop + n_fft] += frames[:, f]
        env[f * hop : f * hop + n_fft] += w.astype(np.float64) ** 2
    plain = (acc / np.maximum(env, 1e-10))[:, n_fft // 2 : n_fft // 2 + n]
    np.testing.assert_allclose(whole, plain, atol=1e-4)


def test_frame_source_cuts_the_same_frames_as_the_whole_signal() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 30_000)).astype(np.float32)
    w = hann(2048)
    whole = stft_block(x, 0, n_frames(x.shape[1], 512), 2048, 512, w)
    src = FrameSource(2, 2048, 512)
    got, f, pos = [], 0, 0
    while True:
        while f < whole.shape[2] and src.available(f + 5):
            got.append(src.frames(f, min(f + 5, whole.shape[2]), w))
            f = min(f + 5, whole.shape[2])
            src.release(f)
        if pos >= x.shape[1]:
            break
        src.append(x[:, pos : pos + 3001])
        pos += 3001
        if pos >= x.shape[1]:
            src.end()
    assert src.total_frames == whole.shape[2]
    np.testing.assert_allclose(np.concatenate(got, axis=2), whole, rtol=0, atol=1e-4)
    with pytest.raises(ValueError, match="released"):
        src.frames(0, 1, w)


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


def test_stft_block_is_the_same_whatever_the_frames_per_fft(monkeypatch) -> None:
    """stft_block runs a few frames per FFT call (its temporaries are those frames' only);
    each frame's spectrum must not depend on how many go through one call."""
    from camb_notebook.methods import _stft

    x = np.random.default_rng(3).normal(size=(2, 50_000)).astype(np.float32)
    window = hann(4096)
    ranges = [(0, 49), (5, 45), (40, 60), (48, 49)]  # the last ones past the end of the signal
    monkeypatch.setattr(_stft, "_FRAMES_PER_FFT", 10_000)
    whole = [stft_block(x, a, b, 4096, 1024, window) for a, b in ranges]
    monkeypatch.setattr(_stft, "_FRAMES_PER_FFT", 7)
    for (a, b), ref in zip(ranges, whole, strict=True):
        got = stft_block(x, a, b, 4096, 1024, window)
        assert got.shape == ref.shape == (2, 2049, b - a) and got.flags.c_contiguous
        np.testing.assert_array_equal(got, ref)
