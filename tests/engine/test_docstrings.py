"""The examples in the engine's docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "camb_notebook.engine",
    "camb_notebook.engine._app",
    "camb_notebook.engine._config",
    "camb_notebook.engine._pool",
    "camb_notebook.engine._server",
    "camb_notebook.engine._tasks",
    "camb_notebook.engine._upload",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0 or name.endswith(("_jobs", "_worker"))
