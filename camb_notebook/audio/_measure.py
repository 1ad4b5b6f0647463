"""Levels and signal-to-distortion ratios, for arrays and, block by block, for files."""

from __future__ import annotations

import os

import numpy as np

from .._exceptions import InputError

__all__ = ["LevelAccumulator", "SdrAccumulator", "rms_db", "sdr", "sdr_files"]

SILENCE_DB = -120.0
_BLOCK = 1 << 20
_EPS = 1e-12


def energy(x: np.ndarray) -> float:
    """Sum of squares, accumulated in float64 one BLAS dot product per block: no float64
    copy of a long clip, and precision holds for any length."""
    flat = np.ravel(x)
    if flat.dtype not in (np.float32, np.float64):
        flat = flat.astype(np.float64)
    return sum(
        float(np.dot(flat[i : i + _BLOCK], flat[i : i + _BLOCK]))
        for i in range(0, flat.size, _BLOCK)
    )


def level_db(total_energy: float, count: int) -> float:
    """RMS level in dBFS of ``count`` samples whose squares sum to ``total_energy``."""
    power = total_energy / count if count else 0.0
    return max(float(10.0 * np.log10(power)), SILENCE_DB) if power > 0 else SILENCE_DB


def rms_db(x: np.ndarray) -> float:
    """RMS level in dB relative to full scale (a full-scale sine is −3 dBFS).

    Examples
    --------
    >>> round(rms_db(np.ones(100)), 1)
    0.0
    >>> rms_db(np.zeros(100))
    -120.0
    """
    x = np.asarray(x)
    return level_db(energy(x), x.size)


class LevelAccumulator:
    """The RMS level of a long signal, fed block by block (what :func:`rms_db` gives whole).

    Examples
    --------
    >>> acc = LevelAccumulator()
    >>> for block in np.array_split(np.full((2, 100), 0.5), 3, axis=1):
    ...     acc.add(block)
    >>> round(acc.value, 2)
    -6.02
    """

    def __init__(self) -> None:
        self.energy = 0.0
        self.count = 0

    def add(self, block: np.ndarray) -> None:
        """Account for one more block of the signal."""
        block = np.asarray(block)
        self.energy += energy(block)
        self.count += block.size

    @property
    def value(self) -> float:
        """The RMS level in dBFS of everything added so far (−120 for silence or nothing)."""
        return level_db(self.energy, self.count)


class SdrAccumulator:
    """The SDR of a long signal, fed block by block (see :func:`sdr`).

    Examples
    --------
    >>> acc = SdrAccumulator()
    >>> s = np.ones((2, 100))
    >>> for i in range(0, 100, 30):
    ...     acc.add(s[:, i : i + 30], 0.9 * s[:, i : i + 30])
    >>> round(acc.value, 1)
    20.0
    """

    def __init__(self) -> None:
        self.signal = 0.0
        self.error = 0.0

    def add(self, reference: np.ndarray, estimate: np.ndarray) -> None:
        """Account for one block of the true stem and the same block of its estimate."""
        reference = np.asarray(reference)
        estimate = np.asarray(estimate)
        if reference.shape != estimate.shape:
            raise InputError(
                f"reference shape {reference.shape} and estimate shape {estimate.shape} differ"
            )
        self.signal += energy(reference)
        self.error += energy(reference.astype(np.float64) - estimate)

    @property
    def value(self) -> float:
        """``10·log10(Σ s² / Σ (s − ŝ)²)`` in dB over everything added so far."""
        return float(10.0 * np.log10((self.signal + _EPS) / (self.error + _EPS)))


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Global signal-to-distortion ratio in dB, as in the Sound Demixing Challenge.

    ``10·log10(Σ s² / Σ (s − ŝ)²)`` over the whole clip and all channels.

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(channels, n)]
        Same shape; the true stem and our estimate of it.

    See Also
    --------
    sdr_files : the same for two files, in blocks.

    Examples
    --------
    >>> s = np.ones((2, 100))
    >>> round(sdr(s, 0.9 * s), 1)
    20.0
    """
    reference = np.asarray(reference)
    estimate = np.asarray(estimate)
    if reference.shape != estimate.shape:
        raise InputError(
            f"reference shape {reference.shape} and estimate shape {estimate.shape} differ"
        )
    acc = SdrAccumulator()
    if reference.size == 0:
        return acc.value
    rows = reference.size // reference.shape[-1] if reference.ndim else 1
    reference, estimate = reference.reshape(rows, -1), estimate.reshape(rows, -1)
    step = max(_BLOCK // rows, 1)
    for i in range(0, reference.shape[1], step):
        acc.add(reference[:, i : i + step], estimate[:, i : i + step])
    return acc.value


def sdr_files(
    reference: str | os.PathLike[str], estimate: str | os.PathLike[str], block: int = 1 << 16
) -> float:
    """:func:`sdr` of two audio files, decoded block by block (memory: one block).

    ``estimate`` is resampled to ``reference``'s rate on the fly; both must then hold the
    same number of channels and samples.

    Examples
    --------
    >>> import tempfile, os
    >>> from camb_notebook.audio import save
    >>> d = tempfile.mkdtemp()
    >>> s = np.ones((2, 1000), np.float32) * 0.5
    >>> ref = save(os.path.join(d, "r.wav"), s, 8000)
    >>> est = save(os.path.join(d, "e.wav"), 0.9 * s, 8000)
    >>> round(sdr_files(ref, est), 1)
    20.0
    """
    from ._reader import open_audio

    with open_audio(reference) as ref, open_audio(estimate, sr=ref.sample_rate) as est:
        if (ref.channels, ref.frames) != (est.channels, est.frames):
            raise InputError(
                f"{ref.name} holds {ref.channels} channels × {ref.frames} samples but "
                f"{est.name} holds {est.channels} × {est.frames} at {ref.sample_rate} Hz; "
                "compare files of the same clip (align them with Stems.from_files first)"
            )
        acc = SdrAccumulator()
        for r, e in zip(ref.blocks(block), est.blocks(block), strict=True):
            acc.add(r, e)
        return acc.value
