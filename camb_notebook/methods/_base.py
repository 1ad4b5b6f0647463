"""The interface every separation method implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Method", "ProgressCallback"]

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
