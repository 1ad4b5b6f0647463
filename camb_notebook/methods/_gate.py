"""The agreement gate of the ``hybrid`` method: where to listen to DeepFilterNet3 at all.

DeepFilterNet3 is trained on speech: where a voice sings, it removes most of it, while
Spleeter (trained on music) keeps it. Per frame we compare the energy each model assigns to
the voice below 11 kHz, ``E_dfn`` and ``E_spleeter``, with a floor of ``floor · E_mixture``
(so that two near-silent estimates in a pause count as agreeing)::

    r  = 10 log10((E_dfn + floor E_mix) / (E_spleeter + floor E_mix))   (energies over ~1 s)
    g0 = clip((r - low_db) / (high_db - low_db), 0, 1)                 (per-frame agreement)
    a  = mean of g0 over ~±2 s                                         (agreement of the passage)
    gate = g0 · clip((a - density_low) / (density_high - density_low), 0, 1)

Speech in the dev corpus gives r of -1 to -4 dB (median), sung voices -25 to -45 dB: ``g0``
opens on the first and shuts on the second. A sung phrase also has notes DeepFilterNet3
half-keeps, where ``g0`` opens a little; the passage term shuts those too, because most of
the phrase around them disagrees, while a short disagreement inside speech (Spleeter letting
an instrument through) leaves the rest of the passage open. An optional moving minimum
(``hold``) is the simpler rule it replaced (``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["agreement_gate", "reach"]


def _window_sum(a: np.ndarray, half: int) -> np.ndarray:
    """Sum over ``[t - half, t + half]`` cut at the array's ends (float64 running sums)."""
    c = np.concatenate([[0.0], np.cumsum(a, dtype=np.float64)])
    n = a.shape[0]
    idx = np.arange(n)
    lo = np.maximum(idx - half, 0)
    hi = np.minimum(idx + half + 1, n)
    return c[hi] - c[lo]


def _window_min(a: np.ndarray, half: int) -> np.ndarray:
    """Minimum over ``[t - half, t + half]`` cut at the array's ends."""
    if half <= 0 or a.shape[0] == 0:
        return a.copy()
    pad = np.concatenate([np.full(half, np.inf), a, np.full(half, np.inf)])
    view = np.lib.stride_tricks.sliding_window_view(pad, 2 * half + 1)
    return view.min(axis=1)


def _window_mean(a: np.ndarray, half: int) -> np.ndarray:
    return _window_sum(a, half) / _window_sum(np.ones_like(a), half)


def reach(smooth: int, context: int, hold: int) -> int:
    """Frames on each side a gate value depends on."""
    return smooth // 2 + context // 2 + hold // 2


def agreement_gate(
    e_spleeter: np.ndarray,
    e_dfn: np.ndarray,
    e_mix: np.ndarray,
    *,
    floor: float = 0.01,
    low_db: float = -12.0,
    high_db: float = -6.0,
    smooth: int = 43,
    context: int = 173,
    density_low: float = 0.5,
    density_high: float = 0.9,
    hold: int = 1,
) -> np.ndarray:
    """Per-frame weight in [0, 1] of DeepFilterNet3's estimate (module docstring).

    Parameters
    ----------
    e_spleeter, e_dfn, e_mix : np.ndarray [shape=(frames,)]
        Per-frame energies of Spleeter's voice estimate, DeepFilterNet3's, and the mixture.
    floor : float
        Share of the mixture's energy added to both estimates' (pauses agree).
    low_db, high_db : float
        Ratio at or below which the gate is shut (0), at or above which it is open (1).
    smooth : int
        Frames (odd) of the moving average of the energies.
    context : int
        Frames (odd) of the passage whose mean agreement scales the gate; 1: no passage term.
    density_low, density_high : float
        Mean agreement of the passage at or below which the gate is shut, at or above which
        the frame's own agreement passes unchanged.
    hold : int
        Frames (odd) of a moving minimum applied last; 1: none.

    Returns
    -------
    np.ndarray [shape=(frames,)], float32
        The windows are cut at the arrays' ends: frame ``t``'s value depends on frames
        ``t ± reach(smooth, context, hold)`` only.

    Examples
    --------
    >>> e = np.ones(200)
    >>> agreement_gate(e, e, e).min(), agreement_gate(e, 1e-4 * e, e).max()
    (np.float32(1.0), np.float32(0.0))
    """
    es = _window_sum(np.asarray(e_spleeter, np.float64), smooth // 2)
    ed = _window_sum(np.asarray(e_dfn, np.float64), smooth // 2)
    ex = floor * _window_sum(np.asarray(e_mix, np.float64), smooth // 2)
    tiny = 1e-30
    r = 10.0 * np.log10((ed + ex + tiny) / (es + ex + tiny))
    g = np.clip((r - low_db) / (high_db - low_db), 0.0, 1.0)
    if context > 1:
        passage = _window_mean(g, context // 2)
        g = g * np.clip((passage - density_low) / (density_high - density_low), 0.0, 1.0)
    return _window_min(g, hold // 2).astype(np.float32)
