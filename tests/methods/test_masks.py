"""The oracle mask: the ideal ratio mask from the true stems, on a method's STFT grid."""

from __future__ import annotations

import numpy as np

from camb_notebook.methods._masks import ideal_ratio_mask
from camb_notebook.methods._stft import hann, n_frames, stft_block


def _magnitudes(x: np.ndarray, n_fft: int = 4096, hop: int = 1024) -> np.ndarray:
    total = n_frames(x.shape[1], hop)
    return np.abs(stft_block(x.astype(np.float32), 0, total, n_fft, hop, hann(n_fft)))


def test_ideal_ratio_mask_is_the_power_ratio_on_spleeters_grid() -> None:
    rng = np.random.default_rng(0)
    fg, bg = rng.normal(size=(2, 8192)), 0.5 * rng.normal(size=(2, 8192))  # float64 in
    m = ideal_ratio_mask(fg, bg, 44100)
    assert (m.sr, m.n_fft, m.hop, m.method) == (44100, 4096, 1024, "ideal")
    assert m.foreground.shape == m.background.shape == (2, 2049, n_frames(8192, 1024))
    assert m.foreground.dtype == m.background.dtype == np.float32
    f, b = _magnitudes(fg), _magnitudes(bg)
    np.testing.assert_allclose(m.foreground, f**2 / (f**2 + b**2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.foreground + m.background, 1.0, atol=1e-6)
    magnitude = ideal_ratio_mask(fg, bg, 44100, power=1.0)
    np.testing.assert_allclose(magnitude.foreground, f / (f + b), rtol=1e-5, atol=1e-6)


def test_where_both_stems_are_silent_the_mask_is_one_half() -> None:
    silence = np.zeros((1, 4096))
    m = ideal_ratio_mask(silence, silence, 8000, n_fft=512, hop=128)
    assert (m.n_fft, m.hop, m.foreground.shape) == (512, 128, (1, 257, n_frames(4096, 128)))
    assert np.all(m.foreground == 0.5) and np.all(m.background == 0.5)
