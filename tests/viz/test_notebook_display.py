"""In a real Jupyter kernel: a returned figure shows once, an assigned one not at all,
and a result's rich display arrives with all three MIME types."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]

SETUP = """\
import numpy as np
from camb_notebook.audio import Stems
from camb_notebook.viz import plot_spectrograms, plot_waveforms, stems_mimebundle
x = np.random.default_rng(0).uniform(-0.3, 0.3, (2, 16000)).astype(np.float32)
s = Stems(x, 0.5 * x, 0.5 * x, 16000)

class Result:
    def _repr_mimebundle_(self, include=None, exclude=None):
        return stems_mimebundle(s)
"""


@pytest.mark.slow
def test_figures_and_results_display_once_in_a_kernel() -> None:
    cells = [
        SETUP,
        "plot_waveforms(s)",
        "fig = plot_spectrograms(s)",
        "fig",
        "Result()",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()
    outputs = [[(o["output_type"], sorted(o.get("data", {}))) for o in c.outputs] for c in nb.cells]
    assert outputs[1] == [("execute_result", ["image/png", "text/plain"])]
    assert outputs[2] == []  # assigned: not shown by the inline backend either
    assert outputs[3] == [("execute_result", ["image/png", "text/plain"])]
    assert outputs[4] == [("execute_result", ["image/png", "text/html", "text/plain"])]
    assert nb.cells[4].outputs[0]["data"]["text/html"].count("<audio") == 3
    # Our figures show as palette PNGs (spectrograms are ~2.5x smaller than as RGBA).
    import base64
    import io

    from PIL import Image

    for cell in (1, 3):
        png = base64.b64decode(nb.cells[cell].outputs[0]["data"]["image/png"])
        assert Image.open(io.BytesIO(png)).mode == "P"
