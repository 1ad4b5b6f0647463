"""The notebooks as saved: no outputs, no widget state, no embedded audio, small, no keys.

They are run top to bottom by nbval in the test command (``--nbval-lax``, see pyproject);
this checks what a reader downloads and what git stores.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = {"quickstart.ipynb", "how_separation_works.ipynb", "batch_analysis.ipynb"}
MAX_BYTES = 100_000

# Base64 openings of audio files ("OggS", "RIFF", "fLaC", "ID3") and data URIs of any audio.
_EMBEDDED_AUDIO = re.compile(r"data:audio/|T2dnU|UklGR|ZkxhQ|SUQz")
# A key written into a cell: CAMB_API_KEY = "...", api_key="...", x-api-key: ...
_LITERAL_KEY = re.compile(
    r"""CAMB_API_KEY["']?\]?\s*=\s*["'][^"']+["']"""
    r"""|api_key\s*=\s*["'][^"']+["']"""
    r"""|x-api-key["']?\s*:\s*["'][^"']+""",
    re.IGNORECASE,
)


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_three_notebooks_are_there() -> None:
    assert {p.name for p in _notebooks()} >= EXPECTED


def _problems(text: str) -> list[str]:
    """What is wrong with a saved notebook (its JSON text), in words; empty when clean."""
    found = []
    if len(text.encode("utf-8")) >= MAX_BYTES:
        found.append(f"{len(text.encode('utf-8'))} bytes, limit {MAX_BYTES}")
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        found.append("kernelspec is not python3")
    if "widgets" in nb.metadata:
        found.append("metadata.widgets (saved widget state)")
    for i, cell in enumerate(nb.cells):
        if "widgets" in cell.metadata:
            found.append(f"cell {i} carries widget state")
        if cell.get("attachments"):
            found.append(f"cell {i} has attachments")
        if cell.cell_type == "code" and cell.outputs:
            found.append(f"cell {i} has outputs")
        if cell.cell_type == "code" and cell.execution_count is not None:
            found.append(f"cell {i} has an execution count")
    if _EMBEDDED_AUDIO.search(text):
        found.append("embedded audio")
    # on the sources, not the JSON text, where quotes are escaped
    if _LITERAL_KEY.search("\n".join(cell.source for cell in nb.cells)):
        found.append("a literal API key")
    return found


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_saved_without_outputs_widget_state_or_audio(path: Path) -> None:
    assert _problems(path.read_text(encoding="utf-8")) == []


def test_problems_are_found_in_a_notebook_saved_after_running() -> None:
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.execution_count = 3
    code.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": '<audio src="data:audio/ogg;base64,T2dnUw">'}
        )
    ]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    code.source += '\nos.environ["CAMB_API_KEY"] = "sk-live-123"'
    problems = _problems(nbformat.writes(nb))
    assert len(problems) == 5, problems
    assert any("outputs" in p for p in problems) and any("widget" in p for p in problems)
    assert _problems(nbformat.writes(nb) + " " * MAX_BYTES)[0].endswith(f"limit {MAX_BYTES}")


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_links_to_other_notebooks_resolve(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    named = {m for c in nb.cells for m in re.findall(r"([\w-]+\.ipynb)", c.source)}
    missing = {name for name in named if not (NOTEBOOKS / name).exists()}
    assert not missing


def test_quickstart_credits_the_example_and_reads_the_key_safely() -> None:
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    credits = (ROOT / "camb_notebook" / "data" / "README.md").read_text(encoding="utf-8")
    for name in ("eSpeak NG", "FluidSynth", "FluidR3 GM", "Frank Wen", "MIT"):
        assert name in credits and name in text, name
    assert "getpass(" in text and "CAMB_API_KEY" in text
    assert "SeparationWidget" in text and "separate(clip)" in text


def test_literal_key_pattern_catches_keys() -> None:
    for bad in ('os.environ["CAMB_API_KEY"] = "sk-123"', 'Client(api_key="sk-123")'):
        assert _LITERAL_KEY.search(bad), bad
    assert not _LITERAL_KEY.search('os.environ["CAMB_API_KEY"] = getpass("key: ")')


def test_embedded_audio_pattern_catches_players() -> None:
    import base64

    import numpy as np

    from camb_notebook.viz import players

    html = players(np.zeros((1, 1600), np.float32), sr=16000).html
    assert _EMBEDDED_AUDIO.search(html)
    assert _EMBEDDED_AUDIO.search(base64.b64encode(b"RIFF\x00\x00\x00\x00WAVE").decode())


def test_sanitize_file_replaces_what_varies() -> None:
    from nbval.plugin import get_sanitize_patterns

    # as nbval reads it: an ordered mapping regex -> replacement
    patterns = dict(get_sanitize_patterns((NOTEBOOKS / "sanitize.cfg").read_text(encoding="utf-8")))

    def clean(s: str) -> str:
        for regex, replace in patterns.items():
            s = re.sub(regex, replace, s)
        return s

    a = clean(
        "<Figure at 0x7f3a2b1c> /tmp/camb-nb-cache-x1/examples/example.flac took 5.2 s "
        "task 37f86fad-feda-49ee-8e79-f7995b0c9a15 at http://127.0.0.1:43121/apis in 830 ms"
    )
    b = clean(
        "<Figure at 0x55d0c0ffee> /tmp/camb-nb-cache-q9/examples/example.flac took 12 s "
        "task 52ef169c-2f68-4513-8936-dad424dd891d at http://127.0.0.1:39007/apis in 91.5 ms"
    )
    assert a == b
    assert "0xADDRESS" in a and "TEMP_PATH" in a and "127.0.0.1:PORT" in a
    # what must not vary is kept
    assert clean("voice SDR 11.2 dB, 48000 Hz") == "voice SDR 11.2 dB, 48000 Hz"


def test_pytest_runs_the_notebooks() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    ini = options["tool"]["pytest"]["ini_options"]
    assert "notebooks" in ini["testpaths"]
    addopts = ini["addopts"].split()
    assert "--nbval-lax" in addopts and "--nbval-current-env" in addopts
    sanitize = addopts[addopts.index("--nbval-sanitize-with") + 1]
    assert (ROOT / sanitize).is_file()
