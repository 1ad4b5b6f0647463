"""The tree stays ruff-clean (lint and format), checked by the test command like everything else."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff(args: list[str]) -> None:
    ruff = shutil.which("ruff") or pytest.fail("ruff is not installed (it is in the test extras)")
    proc = subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_package_is_typed() -> None:
    assert (ROOT / "camb_notebook" / "py.typed").is_file()
