"""Every public name of camb_notebook.api is what it claims to be."""

from __future__ import annotations

import inspect

import camb_notebook.api as api


def test_all_is_sorted_and_complete() -> None:
    assert api.__all__ == sorted(api.__all__)
    for name in api.__all__:
        obj = getattr(api, name)
        assert obj.__module__.startswith("camb_notebook.api."), name
        assert obj.__name__ == name
        assert inspect.getdoc(obj), f"{name} has no docstring"
