"""Multichannel Wiener filtering by expectation-maximisation (the norbert / open-unmix recipe).

Each source ``j`` is modelled in every time-frequency bin as a zero-mean complex Gaussian with
covariance ``v_j(f, t) R_j(f)``: a power spectrogram ``v_j`` times a 2×2 spatial covariance
``R_j`` shared by all frames of a block. Starting from the masked mixture, each iteration
re-estimates ``v_j`` and ``R_j`` from the current source estimates (M-step) and recomputes the
estimates as the posterior means ``v_j R_j (Σ_k v_k R_k)^-1 x`` (E-step). The estimates always
sum to the mixture, and a voice panned to the centre is told apart from a wide stereo band by
its spatial covariance, which a per-channel mask cannot do.

Reference: A. Liutkus, F.-R. Stöter, "sigsep/norbert" (MIT), and N. Q. K. Duong, E. Vincent,
R. Gribonval, "Under-determined reverberant audio source separation using a full-rank spatial
covariance model", IEEE TASLP 2010.
"""

from __future__ import annotations

import numpy as np

__all__ = ["wiener"]

_LOADING = 1e-4


def wiener(
    x: np.ndarray, y: np.ndarray, iterations: int = 1, eps: float | None = None
) -> np.ndarray:
    """Refine source estimates of a stereo mixture with multichannel Wiener EM.

    Parameters
    ----------
    x : np.ndarray [shape=(2, F, T)], complex64
        STFT of the stereo mixture (one block of frames).
    y : np.ndarray [shape=(J, 2, F, T)], complex64
        Initial STFTs of the J sources, usually ``mask_j * x``.
    iterations : int
        EM iterations; 0 returns ``y`` unchanged.
    eps : float, optional
        Regulariser added to the mixture covariance on top of a diagonal loading of 0.01 % of
        each bin's power; default ``1e-10 * max|x|²`` (at least ``1e-20``), so a silent block
        stays silent and the inversion stays finite.

    Returns
    -------
    np.ndarray [shape=(J, 2, F, T)], complex64
        Refined source STFTs; they sum to ``x`` up to the regulariser.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(2, 2, 8, 5)) + 1j * rng.normal(size=(2, 2, 8, 5))
    >>> x = s.sum(0).astype(np.complex64)
    >>> out = wiener(x, 0.5 * np.stack([x, x]), iterations=2)
    >>> out.shape, bool(np.allclose(out.sum(0), x, atol=1e-2))
    ((2, 2, 8, 5), True)
    """
    if iterations <= 0:
        return y
    if x.shape[0] != 2 or y.shape[1] != 2:
        raise ValueError(f"wiener needs stereo STFTs, got x {x.shape} and y {y.shape}")
    if eps is None:
        peak = float(np.max(x.real**2 + x.imag**2)) if x.size else 0.0
        eps = max(1e-10 * peak, 1e-20)
    eps = np.float32(eps)
    x0, x1 = x[0], x[1]
    ys = [(yj[0], yj[1]) for yj in y]
    for _ in range(iterations):
        # M-step: power v_j(f, t) and spatial covariance R_j(f) = Σ_t y y^H / Σ_t v_j
        stats = []
        for y0, y1 in ys:
            p0 = y0.real**2 + y0.imag**2
            p1 = y1.real**2 + y1.imag**2
            v = 0.5 * (p0 + p1)
            norm = 1.0 / (v.sum(axis=1, keepdims=True) + eps)
            r00 = p0.sum(axis=1, keepdims=True) * norm
            r11 = p1.sum(axis=1, keepdims=True) * norm
            r01 = (y0 * y1.conj()).sum(axis=1, keepdims=True) * norm
            stats.append((v, r00, r11, r01))
        # E-step: y_j = v_j R_j Cxx^-1 x with Cxx = Σ_j v_j R_j + eps I (2×2 Hermitian)
        a = sum(v * r00 for v, r00, _, _ in stats)
        d = sum(v * r11 for v, _, r11, _ in stats)
        b = sum(v * r01 for v, _, _, r01 in stats)
        # Diagonal loading relative to each bin's power keeps the 2×2 inverse well conditioned
        # in float32 when the channels are (nearly) identical, e.g. dual mono.
        load = _LOADING * 0.5 * (a + d) + eps
        a = a + load
        d = d + load
        det = np.maximum(a * d - (b.real**2 + b.imag**2), np.maximum(load * load, 1e-30))
        inv_det = 1.0 / det
        g0 = (d * x0 - b * x1) * inv_det
        g1 = (a * x1 - b.conj() * x0) * inv_det
        ys = [
            (
                (v * (r00 * g0 + r01 * g1)).astype(np.complex64),
                (v * (r01.conj() * g0 + r11 * g1)).astype(np.complex64),
            )
            for v, r00, r11, r01 in stats
        ]
    return np.stack([np.stack(pair) for pair in ys])
