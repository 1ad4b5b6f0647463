"""The package's layers hold: the import-linter contracts in pyproject.toml are kept.

Lowest first: shared words and settings → audio → methods | viz | examples → api | engine →
connect | report → cli | widget. A wrong-way import or an import cycle fails this test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports") or pytest.fail(
        "lint-imports is not installed (import-linter is in the test extras)"
    )
    env = {**os.environ, "PYTHONPATH": str(tree)}  # analyse this tree, not an installed copy
    return subprocess.run(
        [exe, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )


def test_layers_and_no_cycles() -> None:
    proc = _lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("engine/_jobs.py", "from ..api import _models  # noqa"),  # peers never import each other
        ("audio/_formats.py", "from .. import viz  # noqa"),  # a low layer importing a higher
        ("viz/_features.py", "from . import _plots  # noqa"),  # a cycle inside viz
    ],
)
def test_a_wrong_import_is_caught(tmp_path: Path, module: str, line: str) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "camb_notebook", tree / "camb_notebook")
    target = tree / "camb_notebook" / module
    target.write_text(target.read_text() + f"\n{line}\n")
    proc = _lint_imports(tree)
    assert proc.returncode != 0, proc.stdout
    assert "BROKEN" in proc.stdout
