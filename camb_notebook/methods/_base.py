"""The interface every separation method implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Method", "ProgressCallback", "check_audio"]

#: Called with the fraction done, from 0.0 to 1.0.
ProgressCallback = Callable[[float], None]


@runtime_checkable
class Method(Protocol):
    """A two-stem separation method.

    ``separate`` takes ``audio`` as float32 of shape ``(channels, samples)`` at
    rate ``sr`` and returns ``(foreground, background)`` of the same shape and rate.
    """

    name: str

    def separate(
        self,
        audio: np.ndarray,
        sr: int,
        progress: ProgressCallback | None = None,
    ) -> tuple[np.ndarray, np.ndarray]: ...


def check_audio(audio: np.ndarray, sr: int) -> np.ndarray:
    """Return ``audio`` as a float32 ``(channels, samples)`` array, or raise InputError.

    Examples
    --------
    >>> check_audio(np.zeros((2, 10)), 44100).dtype
    dtype('float32')
    """
    from camb_notebook._exceptions import InputError

    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise InputError(f"sr={sr!r} must be a positive integer sample rate in Hz, e.g. 44100")
    arr = np.asarray(audio)
    if arr.ndim != 2:
        raise InputError(
            f"audio has shape {arr.shape}; expected (channels, samples), e.g. (2, n) for stereo "
            "(use audio[None, :] for a mono 1-D array)"
        )
    if arr.shape[0] < 1:
        raise InputError(f"audio has shape {arr.shape}: it needs at least one channel")
    if not np.issubdtype(arr.dtype, np.floating) and not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"audio dtype {arr.dtype} is not numeric; expected float32 samples")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise InputError("audio contains NaN or infinite samples; clean or re-decode the input")
    return arr
