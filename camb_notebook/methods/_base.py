"""The interface every separation method implements, on arrays and on streams of blocks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "Method",
    "ProgressCallback",
    "Separator",
    "StreamingMethod",
    "check_audio",
    "check_block",
    "check_channels",
    "check_rate",
]

#: Called with the fraction done, from 0.0 to 1.0.
ProgressCallback = Callable[[float], None]

#: What a separator returns: finished ``(foreground, background)`` blocks, in order.
Blocks = list[tuple[np.ndarray, np.ndarray]]


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


@runtime_checkable
class Separator(Protocol):
    """One stream being separated: push blocks in, get finished blocks out.

    ``push(block)`` takes float32 ``(channels, n)`` for any ``n`` (0 included) and returns the
    ``(foreground, background)`` blocks that became final, in order, possibly none: a method
    needs some look-ahead (a segment, a search window) before a sample's output is final.
    ``finish()`` ends the input and returns the rest. Concatenated, the returned blocks have
    exactly as many samples as were pushed, and the memory held does not depend on how many.
    """

    sr: int
    channels: int

    def push(self, block: np.ndarray) -> Blocks: ...

    def finish(self) -> Blocks: ...


@runtime_checkable
class StreamingMethod(Method, Protocol):
    """A method that also separates a stream of blocks in bounded memory.

    ``stream(sr, channels)`` opens a :class:`Separator`; given ``total`` (the samples that
    will be pushed) it calls ``progress`` with the fraction of the work done, monotonic and
    below 1.0 (the caller reports 1.0 when it has consumed the output).
    """

    def stream(
        self,
        sr: int,
        channels: int,
        *,
        total: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> Separator: ...


def check_rate(sr: object) -> int:
    """Return ``sr`` as an int, or raise InputError naming it.

    Examples
    --------
    >>> check_rate(44100)
    44100
    """
    from .._exceptions import InputError

    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise InputError(f"sr={sr!r} must be a positive integer sample rate in Hz, e.g. 44100")
    return int(sr)


def check_channels(channels: object) -> int:
    """Return ``channels`` as an int, or raise InputError naming it.

    Examples
    --------
    >>> check_channels(2)
    2
    """
    from .._exceptions import InputError

    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels < 1:
        raise InputError(f"channels={channels!r} must be a positive integer, e.g. 2 for stereo")
    return int(channels)


def check_block(block: np.ndarray, channels: int | None = None) -> np.ndarray:
    """Return ``block`` as a float32 ``(channels, samples)`` array, or raise InputError.

    Examples
    --------
    >>> check_block(np.zeros((2, 10)), 2).dtype
    dtype('float32')
    """
    from .._exceptions import InputError

    arr = np.asarray(block)
    if arr.ndim != 2:
        raise InputError(
            f"audio has shape {arr.shape}; expected (channels, samples), e.g. (2, n) for stereo "
            "(use audio[None, :] for a mono 1-D array)"
        )
    if arr.shape[0] < 1:
        raise InputError(f"audio has shape {arr.shape}: it needs at least one channel")
    if channels is not None and arr.shape[0] != channels:
        raise InputError(
            f"block has {arr.shape[0]} channels, but the stream was opened with "
            f"channels={channels}; push (channels, n) blocks of the same layout"
        )
    if not np.issubdtype(arr.dtype, np.floating) and not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"audio dtype {arr.dtype} is not numeric; expected float32 samples")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise InputError("audio contains NaN or infinite samples; clean or re-decode the input")
    return arr


def check_audio(audio: np.ndarray, sr: int) -> np.ndarray:
    """Return ``audio`` as a float32 ``(channels, samples)`` array, or raise InputError.

    Examples
    --------
    >>> check_audio(np.zeros((2, 10)), 44100).dtype
    dtype('float32')
    """
    check_rate(sr)
    return check_block(audio)
