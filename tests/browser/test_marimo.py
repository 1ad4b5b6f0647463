"""The widget in marimo (``marimo run`` on loopback): lanes, zoom, tiles, the view from Python.

marimo shows anywidgets through ``mo.ui.anywidget``; the app's second cell depends on the
widget's value, so it runs again whenever the browser reports its window, and prints
``w.view()`` and ``w.selection()``. A button calls ``w.zoom()`` from Python. marimo is
installed in a venv under ``build/`` (over this interpreter's packages), not in the project's
environment.
"""

from __future__ import annotations

import re
import site
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.server import Emulator

from .conftest import REPO, SHOTS, Server, _server_env, _stop, _wait_http, free_port, write_song

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MARIMO = "0.25.2"

APP = """\
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    from camb_notebook.widget import SeparationWidget

    w = SeparationWidget(session=False)
    w.add_file("song.wav")
    shown = mo.ui.anywidget(w)
    zoom = mo.ui.button(label="zoom 2-3 s", on_click=lambda _: w.zoom(2.0, 3.0))
    mo.vstack([shown, zoom])
    return mo, shown, w, zoom


@app.cell
def _(mo, shown, w):
    shown.value  # runs again whenever the browser reports its view
    mo.md(f"VIEW {w.view() if w.results else None} SEL {w.selection() if w.results else None}")
    return
"""


def _marimo() -> Path:
    """``build/venv-marimo``: marimo over this interpreter's packages (see ``_kernel_venv``)."""
    venv = REPO / "build" / "venv-marimo"
    python = venv / "bin" / "python"
    parents = [p for p in site.getsitepackages() if Path(p).is_dir()]
    pth_text = "".join(f"import site; site.addsitedir({p!r})\n" for p in parents)
    probe = [str(python), "-c", "import marimo, camb_notebook; print(marimo.__version__)"]
    ok = (
        python.exists()
        and subprocess.run(probe, capture_output=True, text=True, cwd=REPO).stdout.strip()
    )
    if ok != MARIMO:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        site_dir = next(venv.glob("lib/python*/site-packages"))
        (site_dir / "_parent_env.pth").write_text(pth_text)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"marimo=={MARIMO}"], check=True)
    return venv / "bin" / "marimo"


@pytest.fixture
def app(workdir: Path) -> Iterator[Server]:
    marimo = _marimo()
    write_song(workdir / "song.wav")
    (workdir / "app.py").write_text(APP)
    with Emulator(pending_polls=1) as emulator:
        env = {"CAMB_API_KEY": emulator.api_key, "CAMB_BASE_URL": emulator.base_url}
        port = free_port()
        log = workdir.parent / "marimo.log"
        cmd = [
            str(marimo),
            "run",
            "app.py",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--headless",
            "--no-token",
        ]
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=workdir, env=_server_env(env), stdout=out, stderr=out)
        url = f"http://127.0.0.1:{port}"
        _wait_http(f"{url}/", proc, log)
        yield Server(url, workdir, None, proc, log)
        _stop(proc)


def _view(c: Any) -> dict[str, Any]:
    return c.evaluate(
        """(card) => { const p = card.querySelector('.camb-player').cambPlayer;
          return {start: p.viewport.start, end: p.viewport.end, full: p.viewport.full,
            drawn: Number(card.querySelector('.camb-lane-foreground .camb-tiles').dataset.tiles
              || 0)}; }"""
    )


def _printed(page: Any, want: Any, timeout: float = 30.0) -> tuple[float, ...]:
    """The numbers the app's second cell prints, once ``want(numbers)`` holds (or the last)."""
    import time

    deadline = time.monotonic() + timeout
    numbers: tuple[float, ...] = ()
    while time.monotonic() < deadline:
        text = page.get_by_text(re.compile(r"^VIEW ")).first
        if text.count():
            numbers = tuple(float(x) for x in re.findall(r"\d+(?:\.\d+)?", text.inner_text()))
            if want(numbers):
                return numbers
        page.wait_for_timeout(250)
    return numbers


def test_widget_in_marimo(page: Any, app: Server) -> None:
    page.goto(app.url, wait_until="domcontentloaded")
    c = page.locator(".camb-card")  # Playwright's locators reach into marimo's shadow DOM
    c.locator(".camb-lane[data-lane]").nth(2).wait_for(timeout=180_000)
    page.wait_for_function(
        "(card) => card.dataset.state === 'done' && card.querySelector('audio').src",
        arg=c.element_handle(),
        timeout=60_000,
    )
    assert _view(c)["full"]

    lane = c.locator(".camb-lane-foreground .camb-lane-view")
    box = lane.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.keyboard.down("Control")
    for _ in range(4):
        page.mouse.wheel(0, -240)
    page.keyboard.up("Control")
    page.wait_for_function(
        "(card) => card.querySelector('.camb-lane-foreground .camb-tiles').dataset.tiles > 0",
        arg=c.element_handle(),
        timeout=30_000,
    )
    zoomed = _view(c)
    assert not zoomed["full"]
    near = pytest.approx((zoomed["start"], zoomed["end"]), abs=2e-3)
    assert _printed(page, lambda n: n[:2] == near)[:2] == near

    page.keyboard.down("Shift")
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 20, steps=8)
    page.mouse.up()
    page.keyboard.up("Shift")
    sel = c.evaluate("(card) => card.querySelector('.camb-player').cambPlayer.sel")
    chosen = pytest.approx(tuple(sel), abs=2e-3)
    assert _printed(page, lambda n: n[2:4] == chosen)[2:4] == chosen

    page.get_by_role("button", name="zoom 2-3 s").click()
    page.wait_for_function(
        "(card) => Math.abs(card.querySelector('.camb-player').cambPlayer.viewport.start - 2)"
        " < 1e-6",
        arg=c.element_handle(),
        timeout=30_000,
    )
    assert (_view(c)["start"], _view(c)["end"]) == pytest.approx((2.0, 3.0))
    ruler = c.locator(".camb-tick").all_inner_texts()
    assert any(t.startswith("0:02.") for t in ruler), ruler
    page.screenshot(path=str(SHOTS / "marimo-zoom.png"))
