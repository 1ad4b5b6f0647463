"""Every docstring example in the package runs and shows what it claims.

Modules are discovered, so a new module is covered the day it lands.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import camb_notebook

MODULES = sorted(m.name for m in pkgutil.walk_packages(camb_notebook.__path__, "camb_notebook."))


@pytest.mark.parametrize("name", ["camb_notebook", *MODULES])
def test_docstring_examples(name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_public_functions_have_examples() -> None:
    """The public functions teach by example (numpydoc ``Examples`` sections)."""
    import inspect

    from camb_notebook import _connect, api, audio, methods, viz

    missing = [
        f"{module.__name__}.{name}"
        for module in (audio, api, methods, viz, _connect)
        for name in module.__all__
        if inspect.isfunction(obj := getattr(module, name)) and ">>>" not in (obj.__doc__ or "")
    ]
    assert not missing
