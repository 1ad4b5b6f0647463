"""Several runs of one file in one card, in a real browser (Voila, the real local engine).

``w.add_file("song.wav", methods=["spleeter", "repet"])``: one card, a run switch named by
method, and the A/B switch (button and key B) that goes from one run to the other at the same
playback position while it plays.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import _stop, open_page, start_lab, start_voila, widget_notebook, write_song

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELL = (
    "from camb_notebook.widget import SeparationWidget\n"
    "w = SeparationWidget()\n"
    'w.add_file("song.wav", methods=["spleeter", "repet"])\n'
    "w"
)

BOTH_READY = """() => {
  const group = document.querySelector('.camb-run-group');
  if (!group) return false;
  const runs = [...group.querySelectorAll('.camb-run-card')];
  return runs.length === 2 && runs.every((card) => {
    const audio = card.querySelector('audio.camb-audio');
    const lanes = [...card.querySelectorAll('.camb-lane[data-lane]')];
    return card.dataset.state === 'done' && lanes.length === 3 && audio && audio.src
      && audio.readyState >= 1 && Number.isFinite(audio.duration)
      && card.querySelector('.camb-play') && !card.querySelector('.camb-play').disabled;
  });
}"""

# Per run (by its name on the switch): shown, playing, position, lanes heard and their gains.
RUNS = """(group) => Object.fromEntries([...group.querySelectorAll('.camb-run-card')].map((c) => {
  const card = c;
  const p = card.querySelector('.camb-player').cambPlayer;
  const run = group.querySelector(`.camb-run[data-run-id="${card.dataset.clipId}"]`).dataset.run;
  const gains = {};
  for (const [lane, node] of p.graph.gains) gains[lane] = node.gain.value;
  return [run, {shown: !card.hidden, paused: p.media.paused, time: p.media.currentTime,
    heard: [...card.querySelectorAll('.camb-lane[data-heard=true]')].map((l) => l.dataset.lane),
    gains}];
}))"""


@pytest.fixture(scope="module")
def runs_page(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("runs") / "root"
    root.mkdir()
    write_song(root / "song.wav", seconds=8.0)
    widget_notebook(root / "app.ipynb", CELL)
    server = start_voila(root, "app.ipynb")
    try:
        with open_page(browser, "runs") as page:
            page.goto(server.page_url("/"), wait_until="domcontentloaded")
            page.wait_for_function(BOTH_READY, timeout=300_000)
            yield page
    finally:
        _stop(server.proc)


# Where the run that stops stopped, where the run that starts was sought to and where it
# started to play (media events).
WATCH = """() => {
  const seen = (window.__cambSwitch = {});
  for (const card of document.querySelectorAll('.camb-run-card')) {
    const audio = card.querySelector('audio');
    const note = (what) => () => { seen[what] = audio.currentTime; };
    if (audio.paused) {
      audio.addEventListener('seeked', note('sought'), {once: true});
      audio.addEventListener('playing', note('playing'), {once: true});
    } else {
      audio.addEventListener('pause', note('paused'), {once: true});
    }
  }
}"""


def _switched(page: Any) -> dict[str, float]:
    page.wait_for_function("() => Object.keys(window.__cambSwitch).length === 3")
    kept = page.evaluate("() => window.__cambSwitch")
    # Sought to where the other stopped, within 0.1 s (the stopping element's time is read in
    # its pause event, which can lag its settled time by a frame or two on a loaded machine:
    # 50 ms was seen; without the hand-over the jump was 1.47 s); playing from there (the
    # event comes a little later on a loaded machine, never earlier).
    assert abs(kept["sought"] - kept["paused"]) < 0.1, kept
    assert -0.1 < kept["playing"] - kept["paused"] < 0.5, kept
    return kept


def _runs(page: Any) -> dict[str, dict[str, Any]]:
    page.wait_for_timeout(120)  # the gains' short ramp
    return page.locator(".camb-run-group").evaluate(RUNS)


def test_one_card_with_a_run_switch_named_by_method(runs_page: Any) -> None:
    page = runs_page
    assert page.locator(".camb-run-group").count() == 1
    group = page.locator(".camb-run-group")
    assert group.locator(":scope > .camb-card-head .camb-name").inner_text() == "song.wav"
    switch = group.locator(".camb-run-switch")
    assert switch.get_attribute("role") == "radiogroup"
    buttons = switch.locator(".camb-run")
    assert [buttons.nth(i).get_attribute("data-run") for i in range(2)] == ["spleeter", "repet"]
    assert [buttons.nth(i).get_attribute("aria-checked") for i in range(2)] == ["true", "false"]
    runs = _runs(page)
    assert runs["spleeter"]["shown"] and not runs["repet"]["shown"]
    # The A/B pair: the foreground of one run against the foreground of the other.
    shown = group.locator(".camb-run-card:not([hidden])")
    a = shown.locator(".camb-ab-select").nth(0)
    b = shown.locator(".camb-ab-select").nth(1)
    # the A/B menus fill in once both runs' lanes are listed (a moment after the lanes show)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.camb-run-card:not([hidden]) .camb-ab-select')]
          .filter((s) => s.selectedIndex >= 0 && s.options.length >= 4).length === 2"""
    )
    label = lambda sel: sel.evaluate("(s) => s.options[s.selectedIndex].textContent")  # noqa: E731
    assert (label(a), label(b)) == ("spleeter: Foreground", "repet: Foreground")
    assert runs["spleeter"]["heard"] == ["foreground"]
    assert shown.locator(".camb-play").get_attribute("aria-label") == "Play song.wav (spleeter)"


def test_ab_switches_runs_at_the_same_position_while_playing(runs_page: Any) -> None:
    page = runs_page
    group = page.locator(".camb-run-group")
    shown = group.locator(".camb-run-card:not([hidden])")
    lane = shown.locator(".camb-lane-foreground .camb-lane-view")
    box = lane.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2)  # seek, focus
    page.keyboard.press(" ")  # play, from the focused lane
    page.wait_for_function(
        "() => { const a = document.querySelector('.camb-run-card:not([hidden]) audio');"
        " return !a.paused && a.currentTime > 1.5; }"
    )
    page.evaluate(WATCH)
    page.keyboard.press("b")
    runs = _runs(page)
    assert runs["repet"]["shown"] and not runs["spleeter"]["shown"], runs
    assert runs["spleeter"]["paused"] and not runs["repet"]["paused"], runs
    # The same position: where spleeter stopped is where repet started.
    _switched(page)
    # What is heard now is the other run's foreground.
    assert runs["repet"]["heard"] == ["foreground"], runs
    assert runs["repet"]["gains"]["foreground"] > 0.99, runs
    assert runs["repet"]["gains"]["original"] < 0.01, runs
    checked = group.locator(".camb-run[aria-checked=true]").get_attribute("data-run")
    assert checked == "repet"
    # The keys keep working: the focus went to the same lane of the run now shown.
    assert page.evaluate(
        "() => document.activeElement.closest('.camb-run-card:not([hidden])') !== null"
        " && document.activeElement.closest('.camb-lane').dataset.lane === 'foreground'"
    )
    page.wait_for_timeout(600)
    still = _runs(page)
    assert not still["repet"]["paused"] and still["repet"]["time"] > runs["repet"]["time"] + 0.3

    # And back with B: spleeter again, where repet was.
    page.evaluate(WATCH)
    page.keyboard.press("b")
    back = _runs(page)
    assert back["spleeter"]["shown"] and not back["spleeter"]["paused"], back
    assert back["repet"]["paused"], back
    assert _switched(page)["paused"] > 2.0

    # The run switch does the same: repet, still playing, at the same position.
    page.evaluate(WATCH)
    group.locator('.camb-run[data-run="repet"]').click()
    picked = _runs(page)
    assert picked["repet"]["shown"] and not picked["repet"]["paused"], picked
    _switched(page)
    assert (
        group.locator(".camb-run-card:not([hidden]) .camb-ab-switch").get_attribute("aria-checked")
        == "true"
    )  # repet is side B
    group.locator(".camb-run-card:not([hidden]) .camb-play").click()
    assert all(r["paused"] for r in _runs(page).values())
    assert page.camb_errors == []


def test_keys_switch_runs_in_notebook_7_command_mode(page: Any, workdir: Path) -> None:
    """B and X are Notebook 7 shortcuts (insert a cell, cut it): the player keeps them."""
    from .test_lab import _open, _run_cell

    widget_notebook(workdir / "runs.ipynb", CELL)
    server = start_lab(workdir, app="notebook")
    try:
        _open(page, server, "runs.ipynb", prefix="/notebooks")
        page.camb_errors.clear()  # Notebook 7 raises "reading 'schema'" while it boots
        _run_cell(page, 0)
        page.wait_for_function(BOTH_READY, timeout=300_000)
        page.keyboard.press("Escape")  # command mode, where B, X and digits are shortcuts
        cells = page.locator(".jp-Cell").count()
        group = page.locator(".camb-run-group")
        group.locator(".camb-run-card:not([hidden]) .camb-lane-foreground .camb-lane-view").click()
        page.keyboard.press("b")
        assert group.locator(".camb-run[aria-checked=true]").get_attribute("data-run") == "repet"
        page.keyboard.press("x")  # Mix, in the run now shown
        mix = group.locator(".camb-run-card:not([hidden]) .camb-mix")
        assert mix.get_attribute("aria-pressed") == "true"
        page.keyboard.press("b")  # leaves the mix first, as in a card of one run
        page.keyboard.press("b")
        assert group.locator(".camb-run[aria-checked=true]").get_attribute("data-run") == "spleeter"
        # The run switch is a radio group: arrows go from run to run, B still switches A/B.
        group.locator(".camb-run[aria-checked=true]").focus()
        page.keyboard.press("ArrowRight")
        assert group.locator(".camb-run[aria-checked=true]").get_attribute("data-run") == "repet"
        assert page.evaluate("() => document.activeElement.dataset.run") == "repet"
        page.keyboard.press("ArrowDown")  # in command mode: the next cell, were it not ours
        page.keyboard.press("b")  # from spleeter (side A) to repet (side B)
        assert group.locator(".camb-run[aria-checked=true]").get_attribute("data-run") == "repet"
        assert page.locator(".jp-Cell").count() == cells
        assert not page.camb_errors, page.camb_errors
    finally:
        _stop(server.proc)
