"""Zoom, pan, detail on demand, a looped selection and the view from Python, in JupyterLab 4.

One notebook: the widget with a finished clip (the CAMB emulator on loopback), a cell that
prints ``w.view()`` and ``w.selection()``, and one that calls ``w.zoom()``. The gestures are
real mouse and keyboard input in Chromium.
"""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.server import Emulator

from . import _flows as flow
from .conftest import SHOTS, _stop, start_lab, widget_notebook, write_song
from .test_lab import _open, _run_cell

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS = (
    "from camb_notebook.widget import SeparationWidget\n"
    "w = SeparationWidget(session=False)\nw.add_file('song.wav')\nw",
    "print('VIEW', w.view(), 'SEL', w.selection())",
    "w.zoom(2.0, 3.0)",
)

VIEW = """(card) => {
  const p = card.querySelector('.camb-player').cambPlayer;
  const v = p.viewport;
  return {start: v.start, end: v.end, full: v.full, tiles: p.cache.map.size,
    drawn: Number(card.querySelector('.camb-lane-foreground .camb-tiles').dataset.tiles || 0),
    ruler: [...card.querySelectorAll('.camb-tick')].map((t) => t.textContent),
    axis: [...card.querySelectorAll('.camb-lane-foreground .camb-freq-tick')]
      .map((t) => t.textContent),
    time: p.media.currentTime, sel: p.sel, looping: p.looping, side: p.mix.side};
}"""


@pytest.fixture
def lab(workdir: Path) -> Any:
    write_song(workdir / "song.wav", seconds=12.0)
    widget_notebook(workdir / "zoom.ipynb", *CELLS)
    with Emulator(pending_polls=1) as emulator:
        env = {"CAMB_API_KEY": emulator.api_key, "CAMB_BASE_URL": emulator.base_url}
        server = start_lab(workdir, env)
        yield server
        _stop(server.proc)


def _printed(page: Any, index: int) -> tuple[tuple[float, float], tuple[float, float] | None]:
    page.wait_for_function(
        "(i) => document.querySelectorAll('.jp-Cell')[i]"
        ".querySelector('.jp-OutputArea')?.innerText.includes('VIEW')",
        arg=index,
        timeout=30_000,
    )
    text = page.locator(".jp-Cell").nth(index).locator(".jp-OutputArea").inner_text()
    numbers = [float(x) for x in re.findall(r"[-\d.]+(?:e-?\d+)?", text.split("VIEW")[-1])]
    view = (numbers[0], numbers[1])
    return view, ((numbers[2], numbers[3]) if "None" not in text else None)


def _clear_output(page: Any, index: int) -> None:
    page.evaluate(
        """(i) => { const panel = window.jupyterapp.shell.currentWidget;
          panel.content.activeCellIndex = i;
          window.jupyterapp.commands.execute('notebook:clear-cell-output'); }""",
        index,
    )


def test_zoom_pan_tiles_loop_and_the_view_from_python(page: Any, lab: Any) -> None:
    _open(page, lab, "zoom.ipynb")
    _run_cell(page, 0)
    c = flow.wait_for_lanes(page, "song.wav")
    start = c.evaluate(VIEW)
    assert start["full"] and start["tiles"] == 0
    assert {"100", "1k", "10k"} <= set(start["axis"])  # frequency labels on the spectrogram
    assert "dB" in c.locator(".camb-colour-bar").inner_text()

    # Ctrl + wheel over the foreground lane zooms about the pointer; tiles follow.
    lane = c.locator(".camb-lane-foreground .camb-lane-view")
    box = lane.bounding_box()
    x, y = box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.keyboard.down("Control")
    t0 = time.monotonic()
    for _ in range(4):
        page.mouse.wheel(0, -240)
    page.keyboard.up("Control")
    page.wait_for_function(
        "(card) => card.querySelector('.camb-lane-foreground .camb-tiles').dataset.tiles > 0",
        arg=c.element_handle(),
        timeout=20_000,
    )
    tiles_after = time.monotonic() - t0
    zoomed = c.evaluate(VIEW)
    assert not zoomed["full"] and zoomed["end"] - zoomed["start"] < 6.0
    # The time under the pointer stayed put: 25 % across, 3 s into the 12 s clip.
    anchor = zoomed["start"] + 0.25 * (zoomed["end"] - zoomed["start"])
    assert anchor == pytest.approx(3.0, abs=0.15)
    assert zoomed["ruler"] != start["ruler"]
    page.screenshot(path=str(SHOTS / "zoom-wheel.png"))

    # What the browser shows is what w.view() returns.
    page.wait_for_timeout(400)  # the view is reported 150 ms after the gesture ends
    zoomed = c.evaluate(VIEW)
    _run_cell(page, 1)
    view, sel = _printed(page, 1)
    assert view == pytest.approx((zoomed["start"], zoomed["end"]), abs=2e-3)
    assert sel is None

    # Drag pans a zoomed view: content follows the pointer (left drag → later times).
    before = c.evaluate(VIEW)
    page.mouse.move(x + 200, y)
    page.mouse.down()
    page.mouse.move(x + 100, y, steps=5)
    page.mouse.move(x, y, steps=5)
    page.mouse.up()
    panned = c.evaluate(VIEW)
    shift = 200 / box["width"] * (before["end"] - before["start"])
    assert panned["start"] - before["start"] == pytest.approx(shift, rel=0.1)

    # Shift + drag selects a span; Loop plays it round; A/B inside the loop keeps the place.
    span = panned["end"] - panned["start"]
    page.keyboard.down("Shift")
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=6)
    page.mouse.move(box["x"] + box["width"] * 0.7, y, steps=6)
    page.mouse.up()
    page.keyboard.up("Shift")
    chosen = c.evaluate(VIEW)["sel"]
    assert chosen[1] - chosen[0] == pytest.approx(0.4 * span, rel=0.05)
    c.locator(".camb-loop").click()
    c.locator(".camb-play").click()
    seen = []
    for i in range(24):
        page.wait_for_timeout(100)
        if i == 8:
            c.locator(".camb-ab-switch").click()  # hear B, same place
        seen.append(c.evaluate(VIEW))
    c.locator(".camb-play").click()
    times = [s["time"] for s in seen]
    assert all(chosen[0] - 0.01 <= t <= chosen[1] + 0.1 for t in times), times
    assert any(b < a for a, b in itertools.pairwise(times)), "never looped back"
    assert seen[-1]["side"] == "B"
    # The switch did not move the playhead: the step across it is a normal 100 ms step.
    step = times[9] - times[8]
    assert step == pytest.approx(0.1, abs=0.09) or step < 0  # (or the loop wrapped there)

    page.wait_for_timeout(400)
    _clear_output(page, 1)
    _run_cell(page, 1)
    _, sel = _printed(page, 1)
    assert sel == pytest.approx(tuple(chosen), abs=2e-3)

    # From Python: the browser follows w.zoom(), labels and tiles change, and w.view() agrees.
    _run_cell(page, 2)
    page.wait_for_function(
        "(card) => Math.abs("
        "card.querySelector('.camb-player').cambPlayer.viewport.start - 2) < 1e-6",
        arg=c.element_handle(),
        timeout=20_000,
    )
    py = c.evaluate(VIEW)
    assert (py["start"], py["end"]) == pytest.approx((2.0, 3.0))
    # Until tiles come, the first picture stands in, stretched: 12 lanes wide, moved left 2 s
    # (not capped at the lane's width by the notebook's image styles).
    spec = c.locator(".camb-lane-original .camb-spec").bounding_box()
    inner = box["width"] - 2  # inside the lane's 1 px border
    assert spec["width"] == pytest.approx(12 * inner, rel=0.01)
    assert spec["x"] == pytest.approx(box["x"] + 1 - 2 * inner, abs=4)
    assert any(label.startswith("0:02.") for label in py["ruler"]), py["ruler"]
    page.screenshot(path=str(SHOTS / "zoom-python.png"))
    page.wait_for_timeout(400)
    _clear_output(page, 1)
    _run_cell(page, 1)
    assert _printed(page, 1)[0] == pytest.approx((2.0, 3.0), abs=2e-3)

    # Keys: 0 fits the clip, + zooms in about the playhead; the buttons do the same.
    lane.focus()
    page.keyboard.press("0")
    assert c.evaluate(VIEW)["full"]
    page.keyboard.press("+")
    assert c.evaluate(VIEW)["end"] - c.evaluate(VIEW)["start"] == pytest.approx(6.0, rel=0.01)
    c.locator(".camb-zoom-fit").click()
    assert c.evaluate(VIEW)["full"]
    c.locator(".camb-zoom-in").click()
    assert not c.evaluate(VIEW)["full"]
    for name in ("Zoom in", "Zoom out", "Show the whole clip", "Loop the selected span"):
        assert c.get_by_role("button", name=re.compile(name)).count() == 1
    # Rate 0.5–2× with the pitch kept; a readout of time, frequency and levels under the pointer.
    c.get_by_label("Playback rate (pitch kept)").select_option("1.5")
    assert c.evaluate(
        "(card) => [card.querySelector('audio').playbackRate, "
        "card.querySelector('audio').preservesPitch]"
    ) == [1.5, True]
    spec = c.locator(".camb-lane-foreground .camb-spec").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, spec["y"] + spec["height"] / 2)
    readout = c.locator(".camb-readout").inner_text()
    assert re.search(r"0:0\d\.\d · [\d.]+ k?Hz · .*Foreground [−-]?\d", readout), readout
    print(f"tiles shown {tiles_after * 1000:.0f} ms after the wheel gesture began")
