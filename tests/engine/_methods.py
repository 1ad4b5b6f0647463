"""Tiny separation methods the engine tests register through ``EngineConfig.extra_methods``.

They run inside the engine's worker processes, so they live in an importable module.
"""

from __future__ import annotations

import time

import numpy as np


class HalfSplit:
    """Splits the signal into two equal halves: cheap, exact and easy to check."""

    name = "half"

    def separate(self, audio: np.ndarray, sr: int, progress=None):
        if progress is not None:
            progress(0.5)
        fg = (audio * 0.5).astype(np.float32)
        return fg, (audio - fg).astype(np.float32)


class Slow:
    """Sleeps in small steps while reporting progress: for crash, timeout and queue tests."""

    name = "slow"

    def __init__(self, seconds: float = 3.0) -> None:
        self.seconds = seconds

    def separate(self, audio: np.ndarray, sr: int, progress=None):
        steps = 30
        for i in range(steps):
            time.sleep(self.seconds / steps)
            if progress is not None:
                progress((i + 1) / steps)
        return audio.copy(), np.zeros_like(audio)


class Chunky:
    """Reports only when each of two blocks is done, like spleeter on a short clip."""

    name = "chunky"

    def separate(self, audio: np.ndarray, sr: int, progress=None):
        for block in (1, 2):
            time.sleep(2.0)
            if progress is not None:
                progress(block / 2)
        return audio.copy(), np.zeros_like(audio)


class Broken:
    """Returns stems of the wrong length: the engine must refuse them."""

    name = "broken"

    def separate(self, audio: np.ndarray, sr: int, progress=None):
        return audio[:, :-1], audio[:, :-1]


class Leaky:
    """Stems that leave a quarter of the signal out: a residual of known size."""

    name = "leaky"

    def separate(self, audio: np.ndarray, sr: int, progress=None):
        return (audio * 0.5).astype(np.float32), (audio * 0.25).astype(np.float32)


def half() -> HalfSplit:
    return HalfSplit()


def slow() -> Slow:
    return Slow()


def pause() -> Slow:
    return Slow(seconds=0.1)


def slow_long() -> Slow:
    return Slow(seconds=60.0)


def chunky() -> Chunky:
    return Chunky()


def broken() -> Broken:
    return Broken()


def leaky() -> Leaky:
    return Leaky()


METHODS = {
    "half": "tests.engine._methods:half",
    "slow": "tests.engine._methods:slow",
    "pause": "tests.engine._methods:pause",
    "slow_long": "tests.engine._methods:slow_long",
    "broken": "tests.engine._methods:broken",
    "chunky": "tests.engine._methods:chunky",
    "leaky": "tests.engine._methods:leaky",
}
