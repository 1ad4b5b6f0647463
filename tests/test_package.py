"""The package's public surface: every exported name is what it claims to be."""

from __future__ import annotations

import subprocess
import sys

import camb_notebook
from camb_notebook import _exceptions


def test_all_is_sorted_and_resolves() -> None:
    names = [n for n in camb_notebook.__all__ if n != "__version__"]
    assert names == sorted(names)
    for name in camb_notebook.__all__:
        assert getattr(camb_notebook, name) is not None


def test_exports_are_the_real_objects() -> None:
    from camb_notebook._connect import separate, separate_many
    from camb_notebook.api import AsyncClient, Client, SeparationResult
    from camb_notebook.widget import SeparationWidget

    assert camb_notebook.Client is Client
    assert camb_notebook.AsyncClient is AsyncClient
    assert camb_notebook.SeparationResult is SeparationResult
    assert camb_notebook.SeparationWidget is SeparationWidget
    assert camb_notebook.separate is separate
    assert camb_notebook.separate_many is separate_many


def test_every_error_derives_from_one_base() -> None:
    for name in _exceptions.__all__:
        obj = getattr(_exceptions, name)
        if isinstance(obj, type):
            assert issubclass(obj, camb_notebook.CambError), name
            assert getattr(camb_notebook, name) is obj


def test_unknown_attribute() -> None:
    try:
        camb_notebook.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_light() -> None:
    """`import camb_notebook` must not pull in httpx, anywidget, matplotlib or librosa."""
    code = (
        "import sys, camb_notebook; "
        "print(sorted(m for m in ('httpx', 'anywidget', 'matplotlib', 'librosa', 'torch') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
