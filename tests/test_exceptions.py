"""The exception tree: one base, declared and typed attributes, secrets never in a message."""

from __future__ import annotations

import ast
import inspect
import pickle
from pathlib import Path

import pytest

from camb_notebook import _exceptions as E

PACKAGE = Path(__file__).resolve().parents[1] / "camb_notebook"
CLASSES = {n: getattr(E, n) for n in E.__all__ if isinstance(getattr(E, n), type)}


def _keywords(cls: type) -> set[str]:
    """The keyword arguments *cls* accepts, collected along its bases."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            params = inspect.signature(init).parameters.values()
            names |= {p.name for p in params if p.kind is p.KEYWORD_ONLY}
    return names


def test_the_tree_at_the_top_of_the_module_names_every_class() -> None:
    doc = E.__doc__ or ""
    for name in CLASSES:
        assert name in doc, f"{name} is missing from the tree in _exceptions' docstring"


def test_attributes_are_declared_not_grown() -> None:
    err = E.LimitExceededError("too long", limit=60.0, actual=75.0, exception_reason="X")
    assert (err.limit, err.actual, err.exception_reason, err.parameter) == (60.0, 75.0, "X", None)
    with pytest.raises(TypeError):
        E.InputError("bad", colour="red")  # type: ignore[call-arg]
    # Every declared attribute exists with its default even when not given.
    for cls in CLASSES.values():
        if cls is E.CambError:
            continue
        err = cls("message")
        for name in _keywords(cls):
            assert hasattr(err, name), f"{cls.__name__}.{name}"


def test_every_raise_site_passes_declared_keywords() -> None:
    """A static check over the package: raising with an undeclared keyword is a bug."""
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = getattr(func, "id", None) or getattr(func, "attr", None)
            if name not in CLASSES:
                continue
            for kw in node.keywords:
                assert kw.arg is not None, f"{path}:{node.lineno}: **kwargs into {name}"
                assert kw.arg in _keywords(CLASSES[name]), (
                    f"{path}:{node.lineno}: {name}({kw.arg}=)"
                )


def test_messages_are_redacted_and_errors_pickle() -> None:
    E.register_secret("sk-very-secret-123")
    err = E.AuthenticationError("rejected sk-very-secret-123", status_code=401, body={"k": 1})
    assert "sk-very-secret-123" not in str(err) and "***" in str(err)
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), str(back), back.status_code, back.body) == (
        E.AuthenticationError,
        str(err),
        401,
        {"k": 1},
    )
