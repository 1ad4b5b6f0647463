"""SeparationWidget and its kernel in JupyterLab: a restart, a notebook saved and reopened
without a kernel, re-running the cell, and Cancel stopping the local engine's job."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.server import Emulator

from . import _flows as flow
from .conftest import SHOTS, _stop, start_lab, widget_notebook, write_song
from .test_lab import _cell_output, _open, _run_cell

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDGET_CELL = "from camb_notebook.widget import SeparationWidget\nw = SeparationWidget()\nw"

BLOB_URLS = """() => [...document.querySelectorAll('.camb-sep audio, .camb-sep img.camb-spec')]
  .map((e) => e.src).filter((u) => u.startsWith('blob:'))"""
REVOKED = "(urls) => Promise.all(urls.map((u) => fetch(u).then(() => false, () => true)))"


def _run_code(page: Any, index: int, code: str) -> None:
    page.evaluate(
        """([i, code]) => {
          const panel = window.jupyterapp.shell.currentWidget;
          panel.content.widgets[i].model.sharedModel.setSource(code);
        }""",
        [index, code],
    )
    _run_cell(page, index)


def _wait_output(page: Any, index: int, text: str, timeout: float = 60_000) -> str:
    page.wait_for_function(
        "([i, t]) => document.querySelectorAll('.jp-Cell')[i]"
        ".querySelector('.jp-OutputArea')?.innerText.includes(t)",
        arg=[index, text],
        timeout=timeout,
    )
    return _cell_output(page, index)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(pending_polls=2) as emu:
        yield emu


def _lab(workdir: Path, env: dict[str, str], save_state: bool) -> Any:
    widget_notebook(workdir / "widget.ipynb", WIDGET_CELL, "print('ready')")
    # Its own cache: the task store and the widget's session files of this test only.
    env = {**env, "CAMB_NOTEBOOK_CACHE_DIR": str(workdir.parent / "cache")}
    return start_lab(workdir, env, save_state=save_state)


def test_a_restarted_kernel_is_said_and_rerunning_the_cell_brings_the_clip_back(
    page: Any, workdir: Path, emulator: Emulator
) -> None:
    env = {"CAMB_API_KEY": emulator.api_key, "CAMB_BASE_URL": emulator.base_url}
    server = _lab(workdir, env, save_state=True)
    try:
        _open(page, server, "widget.ipynb")
        _run_cell(page, 0)
        page.wait_for_selector(".camb-sep .camb-drop")
        flow.upload(page, workdir / "song.wav")
        c = flow.wait_for_lanes(page, "song.wav")
        urls = page.evaluate(BLOB_URLS)
        assert len(urls) == 4, urls

        page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()"
        )
        notice = page.locator(".camb-notice")
        notice.wait_for(state="visible", timeout=60_000)
        text = notice.inner_text()
        assert "kernel restarted" in text and "run the cell again" in text, text
        # What needs the kernel is disabled; what is already here still plays.
        assert page.locator(".camb-pick").is_disabled()
        assert c.locator(".camb-lane-foreground .camb-download").is_disabled()
        assert c.locator(".camb-remove").is_disabled()
        assert c.locator(".camb-play").is_enabled()
        # Everything that used to throw "Cannot send" into the page: a drop, a download, ×.
        flow.drop(page, workdir / "song.wav")
        c.locator(".camb-lane-foreground .camb-download").dispatch_event("click")
        c.locator(".camb-remove").dispatch_event("click")
        assert c.locator(".camb-lane-foreground .camb-download").inner_text() == "⬇"
        assert page.locator(".camb-card").count() == 1
        page.screenshot(path=str(SHOTS / "lab-kernel-restarted.png"), full_page=True)
        assert not page.camb_errors, page.camb_errors

        # Run the cell again: the old view goes (revoking its previews) and the finished
        # clip comes back from the task store in seconds, without a new separation.
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status"
            " === 'idle'",
            timeout=90_000,
        )
        started = time.monotonic()
        _run_cell(page, 0)
        page.wait_for_function(
            "() => document.querySelectorAll('.camb-sep').length === 1 "
            "&& !document.querySelector('.camb-notice:not([hidden])')",
            timeout=60_000,
        )
        flow.wait_for_lanes(page, "song.wav", timeout=60_000)
        seconds = time.monotonic() - started
        assert all(page.evaluate(REVOKED, urls))
        assert emulator.submissions == 1, emulator.submissions
        facts = flow.card(page, "song.wav").locator(".camb-facts").inner_text()
        assert "found again in the task store" in facts, facts
        assert seconds < 45, seconds
        assert not page.camb_errors, page.camb_errors
        print(f"clip back {seconds:.1f} s after running the cell again")
    finally:
        _stop(server.proc)


def test_saved_notebook_reopens_with_pictures_and_no_model_error(
    page: Any, workdir: Path, emulator: Emulator
) -> None:
    """JupyterLab's default: widget state is not saved; this widget keeps its own (small)."""
    env = {"CAMB_API_KEY": emulator.api_key, "CAMB_BASE_URL": emulator.base_url}
    server = _lab(workdir, env, save_state=False)
    path = workdir / "widget.ipynb"
    try:
        _open(page, server, "widget.ipynb")
        _run_cell(page, 0)
        page.wait_for_selector(".camb-sep .camb-drop")
        flow.upload(page, workdir / "song.wav")
        flow.wait_for_lanes(page, "song.wav")
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        deadline = time.monotonic() + 30
        while "camb_notebook" not in path.read_text() or "model_ref" not in path.read_text():
            assert time.monotonic() < deadline, "the widget's state was not saved"
            time.sleep(0.3)
        text = path.read_text()
        assert path.stat().st_size < 1_000_000, path.stat().st_size
        assert emulator.api_key not in text
        assert "OggS" not in text and "T2dnU" not in text  # no Ogg pages, raw or base64
        state = json.loads(text)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]
        [saved] = [s["state"] for s in state["state"].values() if "model_ref" in s["state"]]
        assert [c["name"] for c in saved["clips"]] == ["song.wav"]
        assert all(p.startswith("data:image/png;base64,") for p in saved["pictures"].values())

        # Close everything; open the notebook again: a fresh kernel, the saved widget.
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        page.wait_for_timeout(1000)
        _open(page, server, "widget.ipynb")
        still = flow.card(page, "song.wav").locator(".camb-still")
        still.wait_for(state="visible", timeout=60_000)
        assert still.locator("img").evaluate("(i) => i.complete && i.naturalWidth > 100")
        notice = page.locator(".camb-notice").inner_text()
        assert "No kernel is running this widget" in notice, notice
        assert "model not found" not in page.locator(".jp-Notebook").inner_text()
        page.screenshot(path=str(SHOTS / "lab-reopened-without-kernel.png"), full_page=True)

        # Run the cell: the clip is back, from the task store, in seconds.
        started = time.monotonic()
        _run_cell(page, 0)
        flow.wait_for_lanes(page, "song.wav", timeout=60_000)
        seconds = time.monotonic() - started
        assert emulator.submissions == 1 and seconds < 45, (emulator.submissions, seconds)
        assert not page.camb_errors, page.camb_errors
        print(f"saved notebook {path.stat().st_size} bytes; clip back in {seconds:.1f} s")
    finally:
        _stop(server.proc)


def test_cancel_stops_the_local_engine_and_the_queued_clip_says_what_it_waits_for(
    page: Any, workdir: Path
) -> None:
    long_clip = write_song(workdir / "long.wav", seconds=45.0)
    short = write_song(workdir / "short.wav", seconds=5.0)
    server = _lab(workdir, {}, save_state=True)
    try:
        _open(page, server, "widget.ipynb")
        _run_cell(page, 0)
        page.wait_for_selector(".camb-sep .camb-drop")
        assert "local engine" in page.locator(".camb-backend").inner_text()
        page.evaluate(flow.RECORD_STATES)
        flow.upload(page, long_clip)
        page.wait_for_function(
            "() => document.querySelector('.camb-card')?.dataset.state === 'separating'",
            timeout=120_000,
        )
        flow.upload(page, short)
        queued = flow.card(page, "short.wav").locator(".camb-badge")
        page.wait_for_function(
            "(b) => b.textContent.startsWith('queued: position 1')",
            arg=queued.element_handle(),
            timeout=60_000,
        )
        assert queued.inner_text() == "queued: position 1 of 1", queued.inner_text()

        long_card = flow.card(page, "long.wav")
        assert long_card.locator(".camb-cancel").get_attribute("aria-label") == "Cancel long.wav"
        long_card.locator(".camb-cancel").click()
        cancelled = time.monotonic()
        page.wait_for_function(
            "() => /engine stopped the job/.test([...document.querySelectorAll('.camb-card')]"
            ".find((c) => c.querySelector('.camb-name').textContent === 'long.wav')"
            "?.querySelector('.camb-error-hint')?.textContent || '')",
            timeout=60_000,
        )
        # The worker is free at once: the queued clip starts instead of waiting for the
        # cancelled one (about two minutes of separation on this machine) to finish.
        page.wait_for_function(
            "() => ['separating', 'downloading', 'preparing', 'done'].includes("
            "[...document.querySelectorAll('.camb-card')].find((c) => "
            "c.querySelector('.camb-name').textContent === 'short.wav')?.dataset.state)",
            timeout=30_000,
        )
        waited = time.monotonic() - cancelled
        _run_code(
            page,
            1,
            "from camb_notebook.api import TaskStore\n"
            "task = w._clips[0].facts['task_id']\n"
            "print('store', TaskStore().get('local-engine', task).state)",
        )
        assert "store CANCELLED" in _wait_output(page, 1, "store ")
        flow.wait_for_lanes(page, "short.wav", timeout=180_000)
        assert not page.camb_errors, page.camb_errors
        print(f"queued clip started {waited:.1f} s after the cancel")
    finally:
        _stop(server.proc)
