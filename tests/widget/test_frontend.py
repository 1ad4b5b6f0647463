"""The front end's sources (``js/``): unit tests, type check, and a committed bundle that is fresh.

The widget ships ``camb_notebook/widget/widget.js``, bundled by esbuild from ``js/src/`` and
committed, so installing the package needs no Node. These tests need Node and the npm
packages of ``js/package-lock.json`` (``.ci/setup`` runs ``npm ci --prefix js``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "js"
BUNDLE = ROOT / "camb_notebook" / "widget" / "widget.js"


@pytest.fixture(scope="module")
def node() -> str:
    node = shutil.which("node")
    ready = node is not None and (JS / "node_modules" / "esbuild").is_dir()
    if not ready:
        why = "Node or js/node_modules missing: run `npm ci --prefix js` (.ci/setup does)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    assert node is not None
    return node


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=JS, capture_output=True, text=True, timeout=300)


def test_unit_tests_of_the_pure_front_end_logic_pass(node: str) -> None:
    """Time↔pixel mapping, ruler ticks, keyboard map, mixer, uploads… (``node --test``)."""
    proc = _run([node, "--test", "test/"])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "# fail 0" in proc.stdout


def test_sources_type_check(node: str) -> None:
    """The JSDoc types hold (``tsc --noEmit`` with ``checkJs``)."""
    tsc = JS / "node_modules" / "typescript" / "bin" / "tsc"
    proc = _run([node, str(tsc), "--noEmit", "-p", "tsconfig.json"])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]


def test_committed_bundle_is_built_from_the_sources(node: str, tmp_path: Path) -> None:
    fresh = tmp_path / "widget.js"
    proc = _run([node, "build.mjs", "--outfile", str(fresh)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert fresh.read_bytes() == BUNDLE.read_bytes(), (
        "camb_notebook/widget/widget.js is stale: run `npm run build --prefix js` and commit it"
    )


def test_bundle_is_one_self_contained_module() -> None:
    """No imports at all (so nothing can come from a CDN), one default export."""
    text = BUNDLE.read_text(encoding="utf-8")
    # Comments go first: esbuild keeps the sources' JSDoc, which names modules in types.
    code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith("//"))
    assert not re.search(r"^\s*import\b", code, flags=re.M)
    assert not re.search(r"\bimport\s*\(", code)
    assert "http://" not in text and "https://" not in text
    assert "as default" in code.rsplit("export", 1)[-1]
