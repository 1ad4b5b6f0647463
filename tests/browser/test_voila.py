"""SeparationWidget in Voila with the real embedded engine: a dashboard with no code cells shown."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from . import _flows as flow
from .conftest import REPO, SHOTS, _stop, start_voila, widget_notebook, write_song

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# No key, no base URL: the widget's client starts the local engine on loopback.
WIDGET_CELL = """\
from camb_notebook.widget import SeparationWidget
SeparationWidget()"""


@pytest.fixture
def voila(workdir: Path) -> Any:
    widget_notebook(workdir / "app.ipynb", WIDGET_CELL)
    server = start_voila(workdir, "app.ipynb")
    yield server
    _stop(server.proc)


def test_widget_in_voila_with_the_local_engine(page: Any, voila: Any, workdir: Path) -> None:
    page.goto(voila.page_url("/"), wait_until="domcontentloaded")
    page.wait_for_selector(".camb-sep .camb-drop", timeout=120_000)
    assert "local engine" in page.locator(".camb-backend").inner_text()
    page.evaluate(flow.RECORD_STATES)

    # A song of its own: the embedded engine keeps one identity in the session's task store,
    # so the shared 12 s song, separated by an earlier test, would be reused (no service
    # states to check).
    song = write_song(workdir / "song.wav", seconds=11.0)
    other = write_song(workdir / "other.wav", seconds=7.0)
    flow.upload(page, song, other)  # two clips at once
    page.wait_for_function(
        "() => document.querySelectorAll('.camb-card[data-state=done]').length === 2",
        timeout=300_000,
    )
    c = flow.wait_for_lanes(page, "song.wav", timeout=60_000)
    assert abs(flow.duration(flow.card(page, "other.wav")) - 7.0) < 0.1
    states = flow.check_states(page, "song.wav")
    assert "queued" in states or "separating" in states
    facts = c.locator(".camb-facts").inner_text()
    assert "method " in facts and "Residual" in facts, facts
    flow.check_player(page, c, song)
    flow.check_bad_file(page, workdir / "notes.wav", via="drop")
    assert not page.camb_errors, page.camb_errors

    # The picture for the README: the finished card with the playhead placed.
    other_urls = flow.card(page, "other.wav").evaluate(
        "(card) => [...card.querySelectorAll('audio, img.camb-spec')].map((e) => e.src)"
    )
    # One preview holds every lane; each shown lane has its spectrogram.
    assert len(other_urls) == 4 and all(u.startswith("blob:") for u in other_urls)
    assert page.evaluate("(u) => fetch(u).then((r) => r.ok)", other_urls[0])
    for name in ("notes.wav", "other.wav"):
        flow.card(page, name).locator(".camb-remove").click()
    # A finished clip goes with an Undo offer; once that expires the kernel forgets it.
    assert "Removed other.wav" in page.locator(".camb-toast").inner_text()
    page.wait_for_function("() => document.querySelectorAll('.camb-card').length === 1")
    # Removing a clip revokes its Blob URLs: the previews are gone from the page's memory.
    revoked = page.evaluate(
        "(urls) => Promise.all(urls.map((u) => fetch(u).then(() => false, () => true)))",
        other_urls,
    )
    assert all(revoked), revoked
    flow.click_at(page, c.locator(".camb-lane-original .camb-lane-view"), 0.42)
    page.mouse.move(0, 0)
    shot = SHOTS / "voila-widget.png"
    page.locator(".camb-sep").screenshot(path=str(shot))
    if os.environ.get("CAMB_WIDGET_DOCS_SHOT") == "1":  # refresh the README's picture
        shutil.copy(shot, REPO / "docs" / "widget.png")
