"""Stems as the named lanes every picture and player draws: the one place viz reads Stems."""

from __future__ import annotations

import numpy as np

from .._exceptions import InputError
from ..audio import Stems
from ._features import as_channels

__all__ = ["require_stems", "stem_lanes"]


def require_stems(stems: object, caller: str) -> Stems:
    """Return *stems* when it is :class:`~camb_notebook.audio.Stems`, else say what to pass.

    Examples
    --------
    >>> require_stems("song.mp3", "plot_waveforms")
    Traceback (most recent call last):
    ...
    camb_notebook._exceptions.InputError: plot_waveforms() takes camb_notebook.audio.Stems, ...
    """
    if isinstance(stems, Stems):
        return stems
    raise InputError(
        f"{caller}() takes camb_notebook.audio.Stems, got {type(stems).__name__}; for a "
        "separation result pass result.stems(), for arrays "
        "Stems.from_arrays(original, foreground, background, sr)"
    )


def stem_lanes(stems: Stems, *, residual: bool = False) -> list[tuple[str, np.ndarray]]:
    """``[("original", x), ("foreground", …), ("background", …)]`` as float32 ``(channels, n)``,
    then ``("residual", stems.residual)`` when *residual* is true.

    Examples
    --------
    >>> x = np.ones((1, 4), np.float32)
    >>> [name for name, _ in stem_lanes(Stems(x, 0.5 * x, 0.5 * x, 8000), residual=True)]
    ['original', 'foreground', 'background', 'residual']
    """
    lanes = [(name, as_channels(x, name)) for name, x in stems.items()]
    if residual:
        lanes.append(("residual", as_channels(stems.residual, "residual")))
    return lanes
