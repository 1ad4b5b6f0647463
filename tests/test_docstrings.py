"""The examples in the docstrings of the lead's modules run and say what they show.

(The api, engine, methods, viz and widget packages test their own in their folders.)
"""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "camb_notebook",
    "camb_notebook._config",
    "camb_notebook._exceptions",
    "camb_notebook.audio",
    "camb_notebook.audio._formats",
    "camb_notebook.audio._io",
    "camb_notebook.audio._probe",
    "camb_notebook.audio._stems",
    "camb_notebook.examples",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
