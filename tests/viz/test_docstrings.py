"""The examples in the viz and report docstrings run and show what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "camb_notebook.viz._features",
    "camb_notebook.viz._plots",
    "camb_notebook.viz._facts",
    "camb_notebook.viz._display",
    "camb_notebook.report",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
