"""SeparationWidget in JupyterLab 4: upload, progress, lanes, transport, errors, saving."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.server import Emulator

from . import _flows as flow
from .conftest import SHOTS, _stop, start_lab, widget_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDGET_CELL = """\
from camb_notebook.widget import SeparationWidget
w = SeparationWidget(project_name="browser-test")
w"""


def _open(page: Any, server: Any, notebook: str, prefix: str = "/lab/tree") -> None:
    page.goto(server.page_url(f"{prefix}/{notebook}"), wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook")
    page.wait_for_function("window.jupyterapp !== undefined")
    page.wait_for_function(
        """() => {
          const panel = window.jupyterapp.shell.currentWidget;
          const kernel = panel?.sessionContext?.session?.kernel;
          return kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
        }""",
        timeout=90_000,
    )


def _run_cell(page: Any, index: int) -> None:
    page.evaluate(
        """(i) => {
          const panel = window.jupyterapp.shell.currentWidget;
          panel.content.activeCellIndex = i;
          window.jupyterapp.commands.execute('notebook:run-cell');
        }""",
        index,
    )


def _cell_output(page: Any, index: int) -> str:
    return page.locator(".jp-Cell").nth(index).locator(".jp-OutputArea").inner_text()


@pytest.fixture
def emulator() -> Any:
    # Four pending polls (about four seconds "separating") leave time to run another cell.
    with Emulator(pending_polls=4) as emu:
        yield emu


@pytest.fixture(params=["python3", "ipykernel6", "ipykernel700"])
def kernel(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def lab(workdir: Path, emulator: Emulator, kernel: str, kernel_specs: dict[str, str]) -> Any:
    widget_notebook(
        workdir / "widget.ipynb",
        WIDGET_CELL,
        "import ipykernel\nprint('kernel answers', 6 * 7, 'on ipykernel', ipykernel.__version__)",
        "results = await w.done(timeout=120)\n"
        "print('awaited', len(results), round(results[0].stems().duration, 1))",
        kernel=kernel,
    )
    # The key reaches the kernel the recommended way, by environment; it must never be saved.
    env = {"CAMB_API_KEY": emulator.api_key, "CAMB_BASE_URL": emulator.base_url, **kernel_specs}
    server = start_lab(workdir, env)
    yield server
    _stop(server.proc)


def test_widget_in_jupyterlab(
    page: Any, lab: Any, workdir: Path, emulator: Emulator, kernel: str
) -> None:
    _open(page, lab, "widget.ipynb")
    _run_cell(page, 0)
    page.wait_for_selector(".camb-sep .camb-drop")
    assert "CAMB.AI" not in page.locator(".camb-backend").inner_text()  # a local emulator URL
    page.evaluate(flow.RECORD_STATES)

    song = workdir / "song.wav"
    flow.upload(page, song)
    c = flow.card(page, "song.wav")
    page.wait_for_function(
        "() => document.querySelector('.camb-card')?.dataset.state === 'separating'",
        timeout=60_000,
    )
    # The notebook stays usable while the clip separates.
    _run_cell(page, 1)
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-Cell')[1]"
        ".querySelector('.jp-OutputArea')?.innerText.includes('kernel answers 42')",
        timeout=30_000,
    )
    assert c.get_attribute("data-state") in ("separating", "downloading", "preparing")
    version = _cell_output(page, 1).split("on ipykernel")[-1].strip()
    expected = {"ipykernel6": "6.29.5", "ipykernel700": "7.0.0"}.get(kernel, "7.")
    assert version.startswith(expected), version
    page.screenshot(path=str(SHOTS / f"lab-separating-{kernel}.png"))

    c = flow.wait_for_lanes(page, "song.wav")
    states = flow.check_states(page, "song.wav")
    # Top-level await on the kernel's own loop (asyncio in ipykernel 6, anyio in 7).
    _run_cell(page, 2)
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-Cell')[2]"
        ".querySelector('.jp-OutputArea')?.innerText.includes('awaited 1 12.0')",
        timeout=60_000,
    )
    badges = page.evaluate("() => window.__cambBadges['song.wav'] || []")
    assert any(b.startswith("uploading") for b in badges), badges
    assert emulator.last_form.get("project_name") == "browser-test"
    flow.check_player(page, c, song)
    facts = c.locator(".camb-facts").inner_text()
    assert "Duration 0:12.0" in facts and "44.1 kHz" in facts and "Residual" in facts

    # Residual on demand.
    c.locator(".camb-residual").click()
    page.wait_for_function(flow.LANES_READY, arg=4, timeout=60_000)

    # Download a stem: the full-quality file from the kernel.
    with page.expect_download() as dl:
        c.locator(".camb-lane-foreground .camb-download").click()
    download = dl.value
    saved = Path(download.path())
    assert download.suggested_filename.startswith("song_foreground.")
    assert saved.stat().st_size > 100_000

    flow.check_bad_file(page, workdir / "notes.wav")
    page.screenshot(path=str(SHOTS / f"lab-done-{kernel}.png"), full_page=True)
    assert not page.camb_errors, page.camb_errors

    # Save: the notebook keeps the widget's state, stays small and holds neither key nor audio.
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    path = workdir / "widget.ipynb"
    deadline = time.monotonic() + 30
    while "application/vnd.jupyter.widget-state+json" not in path.read_text():
        assert time.monotonic() < deadline, "notebook was not saved with widget state"
        time.sleep(0.3)
    text = path.read_text()
    assert path.stat().st_size < 1_000_000, path.stat().st_size
    assert emulator.api_key not in text
    assert "OggS" not in text and "T2dnUw" not in text  # no Ogg pages, raw or base64
    assert "song.wav" in text  # the state is there, only small
    print(f"{kernel}: saved notebook {path.stat().st_size} bytes; states seen: {states}")


@pytest.mark.parametrize("kernel", ["python3"], indirect=True)
def test_200_mb_upload_arrives_intact(page: Any, lab: Any, workdir: Path) -> None:
    big = workdir / "big.wav"
    # A real 20-minute WAV (~212 MB): header plus low-level noise.
    import numpy as np
    import soundfile as sf

    rng = np.random.default_rng(5)
    with sf.SoundFile(big, "w", samplerate=44100, channels=2, subtype="PCM_16") as f:
        for _ in range(20):
            f.write((rng.standard_normal((44100 * 60, 2)) * 0.01).astype(np.float32))
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    assert big.stat().st_size > 200e6

    _open(page, lab, "widget.ipynb")
    _run_cell(page, 0)
    page.wait_for_selector(".camb-sep .camb-drop")
    page.evaluate(flow.RECORD_STATES)
    started = time.monotonic()
    flow.upload(page, big)
    page.wait_for_function(
        "() => !['uploading', undefined].includes(document.querySelector('.camb-card')"
        "?.dataset.state)",
        timeout=300_000,
    )
    seconds = time.monotonic() - started
    flow.card(page, "big.wav").locator(".camb-cancel").click()
    page.wait_for_function(
        "() => document.querySelector('.camb-card')?.dataset.state === 'cancelled'"
    )
    badges = page.evaluate("() => window.__cambBadges['big.wav'] || []")
    percents = [int(b.split()[-1].rstrip("%")) for b in badges if b.startswith("uploading ")]
    assert len(percents) > 20 and percents == sorted(percents), badges

    # The kernel wrote exactly the bytes the browser had.
    page.evaluate(
        """() => {
          const panel = window.jupyterapp.shell.currentWidget;
          const cell = panel.content.widgets[1];
          cell.model.sharedModel.setSource("import hashlib\\np = w._clips[0].path\\n"
            + "print('sha', hashlib.sha256(p.read_bytes()).hexdigest())\\np.unlink()");
        }"""
    )
    _run_cell(page, 1)
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-Cell')[1]"
        ".querySelector('.jp-OutputArea')?.innerText.includes('sha ')",
        timeout=60_000,
    )
    assert digest in _cell_output(page, 1)
    size = big.stat().st_size
    big.unlink()  # 212 MB twice is too much to leave in temp folders
    print(f"200 MB upload: {size / 1e6:.0f} MB in {seconds:.1f} s")


def test_widget_in_notebook_7(page: Any, workdir: Path) -> None:
    """Notebook 7 shares Lab's widget manager; the local engine separates the clip."""
    code = 'from camb_notebook import SeparationWidget\nSeparationWidget("local", method="repet")'
    widget_notebook(workdir / "nb7.ipynb", code)
    server = start_lab(workdir, app="notebook")
    try:
        _open(page, server, "nb7.ipynb", prefix="/notebooks")
        # Notebook 7.x here raises "reading 'schema'" while it boots, with or without any
        # widget (seen on an empty notebook); only errors after this point are ours.
        page.camb_errors.clear()
        _run_cell(page, 0)
        page.wait_for_selector(".camb-sep .camb-drop")
        song = workdir / "song.wav"
        flow.upload(page, song)
        c = flow.wait_for_lanes(page, "song.wav")
        flow.check_player(page, c, song)
        assert "method repet" in c.locator(".camb-facts").inner_text()
        page.screenshot(path=str(SHOTS / "notebook7-done.png"), full_page=True)
        assert not page.camb_errors, page.camb_errors
    finally:
        _stop(server.proc)
