"""The player's layout in JupyterLab 4 from 700 to 1920 px, with the file browser open.

Issue 15, item 7: at 800 px (JupyterLab with its file browser open) the time ruler's labels
overlapped, the file name shrank to "spe…" and the B menu was cut off. Here a finished clip
with a long name is laid out at each width, and what a user sees is measured: ruler labels
apart, the whole name shown (wrapped, never cut at its end), every control (the A/B menus
too) inside the part of the card that can be seen, none on another.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from . import _flows as flow
from .conftest import SHOTS, _stop, open_page, start_lab, widget_notebook, write_song
from .test_lab import _open, _run_cell

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAME = "speech_and_piano_rehearsal_take_03.wav"
CELL = f"""\
from camb_notebook.widget import SeparationWidget
w = SeparationWidget(session=False)
w.add_file({NAME!r})
w"""


@pytest.fixture(scope="module")
def lab_page(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("lab-layout") / "root"
    root.mkdir()
    write_song(root / NAME, seconds=9.0)
    widget_notebook(root / "layout.ipynb", CELL)
    server = start_lab(root)
    try:
        with open_page(browser, "lab-layout", 1440, 1000) as page:
            _open(page, server, "layout.ipynb")
            _run_cell(page, 0)
            page.wait_for_function(flow.LANES_READY, arg=3, timeout=300_000)
            # The file browser open on the left, as in the report.
            page.evaluate("() => window.jupyterapp.shell.activateById('filebrowser')")
            page.wait_for_selector("#filebrowser", state="visible")
            yield page
    finally:
        _stop(server.proc)


@pytest.mark.parametrize("width", [700, 800, 1024, 1440, 1920])
def test_layout_in_jupyterlab_with_the_file_browser_open(lab_page: Any, width: int) -> None:
    page = lab_page
    page.set_viewport_size({"width": width, "height": 1000})
    page.wait_for_timeout(600)  # JupyterLab and the ruler lay out again on resize
    assert page.locator("#filebrowser").is_visible()
    cards = page.evaluate(flow.LAYOUT)
    assert [c["name"] for c in cards] == [NAME]
    flow.check_layout(width, cards)
    c = flow.card(page, NAME)
    # Both A/B menus are there and usable: choosing B's lane works at this width.
    menus = c.locator(".camb-ab-select")
    assert menus.count() == 2
    menus.nth(1).select_option("background")
    assert menus.nth(1).input_value() == "background"
    menus.nth(1).select_option("foreground")
    # The keys list opens inside the screen.
    keys = c.locator(".camb-keys")
    keys.locator("summary").click()
    box = keys.locator(".camb-keys-list").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (width, box)
    keys.locator("summary").click()
    SHOTS.mkdir(parents=True, exist_ok=True)
    c.screenshot(path=str(SHOTS / f"lab-layout-{width}px.png"))
    assert not page.camb_errors, page.camb_errors
