"""What a user does with the widget in a browser, as steps shared by the Lab and Voila tests."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import soundfile as sf

RECORD_STATES = """() => {
  window.__cambStates = {};
  window.__cambBadges = {};
  const push = (store, card, value) => {
    const name = card.querySelector('.camb-name')?.textContent || '?';
    const list = (store[name] ||= []);
    if (list[list.length - 1] !== value) list.push(value);
  };
  new MutationObserver((muts) => {
    for (const m of muts) {
      const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      if (!el) continue;
      if (m.type === 'attributes' && el.classList.contains('camb-card')) {
        if (m.oldValue) push(window.__cambStates, el, m.oldValue);
        push(window.__cambStates, el, el.dataset.state);
      }
      const badge = el.closest?.('.camb-badge');
      if (badge) push(window.__cambBadges, badge.closest('.camb-card'), badge.textContent);
    }
  }).observe(document.body, {subtree: true, attributes: true, attributeOldValue: true,
    attributeFilter: ['data-state'], childList: true, characterData: true});
}"""

LANES_READY = """(arg) => {
  const [n, all] = Array.isArray(arg) ? arg : [arg, false];
  const cards = [...document.querySelectorAll('.camb-card[data-state=done]')];
  return cards.length > 0 && cards[all ? 'every' : 'some']((card) => {
    const lanes = [...card.querySelectorAll('.camb-lane[data-lane]')];
    const pictures = lanes.every((l) => l.querySelector('img.camb-spec')?.src);
    const audio = card.querySelector('audio.camb-audio');
    return lanes.length >= n && pictures && audio && audio.src && audio.readyState >= 1
      && Number.isFinite(audio.duration);
  });
}"""


def card(page: Any, name: str) -> Any:
    return page.locator(".camb-card", has=page.locator(".camb-name", has_text=name))


def upload(page: Any, *files: Path) -> None:
    """Pick files through the widget's own file input (what the "Choose files…" button opens)."""
    with page.expect_file_chooser() as chooser:
        page.locator(".camb-pick").first.click()
    chooser.value.set_files([str(f) for f in files])


def drop(page: Any, *files: Path) -> None:
    """Drop files on the widget's drop zone, as dragging them from the desktop does."""
    import base64

    payload = [[f.name, base64.b64encode(f.read_bytes()).decode()] for f in files]
    transfer = page.evaluate_handle(
        """(files) => {
          const dt = new DataTransfer();
          for (const [name, b64] of files) {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            dt.items.add(new File([bytes], name, {type: 'audio/wav'}));
          }
          return dt;
        }""",
        payload,
    )
    page.dispatch_event(".camb-drop", "dragover", {"dataTransfer": transfer})
    page.dispatch_event(".camb-drop", "drop", {"dataTransfer": transfer})


def wait_for_lanes(page: Any, name: str, lanes: int = 3, timeout: float = 180_000) -> Any:
    page.wait_for_function(LANES_READY, arg=lanes, timeout=timeout)
    c = card(page, name)
    assert c.locator(".camb-lane[data-lane]").count() == lanes
    return c


def duration(c: Any) -> float:
    """The preview's duration: one element plays every lane."""
    return c.evaluate("(card) => card.querySelector('audio.camb-audio').duration")


def playheads(c: Any) -> dict[str, float]:
    """Left position of each lane's playhead, in percent of the lane."""
    return c.evaluate(
        "(card) => Object.fromEntries([...card.querySelectorAll('.camb-lane[data-lane]')]"
        ".map((l) => [l.dataset.lane, parseFloat(l.querySelector('.camb-playhead').style.left)]))"
    )


def current_time(c: Any) -> float:
    return c.evaluate("(card) => card.querySelector('audio.camb-audio').currentTime")


def audible(c: Any) -> dict[str, bool]:
    """Which lanes the player says are heard (what the gains are set to, see `gains`)."""
    return c.evaluate(
        "(card) => Object.fromEntries([...card.querySelectorAll('.camb-lane[data-lane]')]"
        ".map((l) => [l.dataset.lane, l.dataset.heard === 'true']))"
    )


def gains(page: Any, c: Any) -> dict[str, float]:
    """The Web Audio gains in effect (after the short ramp), lane by lane, and the master."""
    page.wait_for_timeout(120)
    return c.evaluate(
        """(card) => {
          const p = card.querySelector('.camb-player').cambPlayer;
          const out = {master: p.graph.master.gain.value};
          for (const [lane, node] of p.graph.gains) out[lane] = node.gain.value;
          return out;
        }"""
    )


def click_at(page: Any, locator: Any, fraction: float) -> None:
    box = locator.bounding_box()
    page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)


def check_player(page: Any, c: Any, clip: Path) -> None:
    """Duration, click and drag to seek, playing, the A/B switch and the mix."""
    expected = sf.info(str(clip)).duration
    page.wait_for_function(
        "(card) => Number.isFinite(card.querySelector('audio.camb-audio')?.duration)",
        arg=c.element_handle(),
    )
    seconds = duration(c)
    assert abs(seconds - expected) < 0.1, (seconds, expected)
    name = clip.name

    view = c.locator(".camb-lane-foreground .camb-lane-view")
    click_at(page, view, 0.25)
    heads = playheads(c)
    assert set(heads) == {"original", "foreground", "background"}
    assert all(abs(v - 25) < 1.5 for v in heads.values()), heads
    assert abs(current_time(c) - 0.25 * expected) < 0.3

    # Drag on another lane: every playhead follows.
    bg = c.locator(".camb-lane-background .camb-lane-view").bounding_box()
    y = bg["y"] + bg["height"] / 2
    page.mouse.move(bg["x"] + bg["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(bg["x"] + bg["width"] * 0.45, y, steps=4)
    page.mouse.move(bg["x"] + bg["width"] * 0.6, y, steps=4)
    page.mouse.up()
    heads = playheads(c)
    assert all(abs(v - 60) < 1.5 for v in heads.values()), heads

    # Play for a moment: the clock runs and the playheads move together; the button's
    # accessible name says what pressing it does now.
    play = c.locator(".camb-play")
    assert play.get_attribute("aria-label") == f"Play {name}"
    play.click()
    page.wait_for_function(
        "(c) => c.querySelector('.camb-play').getAttribute('aria-label').startsWith('Pause')",
        arg=c.element_handle(),
    )
    assert play.get_attribute("aria-label") == f"Pause {name}"
    page.wait_for_timeout(1200)
    play.click()
    assert play.get_attribute("aria-label") == f"Play {name}"
    moved = playheads(c)
    assert all(v > 60.5 for v in moved.values()), moved
    assert max(moved.values()) - min(moved.values()) < 0.01

    # By default one lane is heard: A, the original (never the mix twice over).
    assert audible(c) == {"original": True, "foreground": False, "background": False}
    g = gains(page, c)
    assert (g["original"], g["foreground"], g["background"]) == (1, 0, 0) and g["master"] == 1
    # Solo and mute are visibly off while the A/B switch decides.
    assert c.locator(".camb-lane-background .camb-solo").is_disabled()
    switch = c.locator(".camb-ab-switch")
    assert switch.get_attribute("aria-checked") == "false"
    before = current_time(c)
    switch.click()
    assert audible(c) == {"original": False, "foreground": True, "background": False}
    assert switch.get_attribute("aria-checked") == "true"
    assert abs(current_time(c) - before) < 0.05  # same position: one element, one clock
    switch.click()
    assert audible(c)["original"] and switch.get_attribute("aria-checked") == "false"
    # Its own key, B, from a focused lane; in a notebook it must not reach the notebook's
    # own B (insert a cell below).
    cells = page.evaluate("() => document.querySelectorAll('.jp-Cell').length")
    c.locator(".camb-lane-original .camb-lane-view").focus()
    page.keyboard.press("b")
    assert audible(c) == {"original": False, "foreground": True, "background": False}
    page.keyboard.press("b")
    assert page.evaluate("() => document.querySelectorAll('.jp-Cell').length") == cells

    # Mix: the stems together (they add up to the original), solo and mute now work.
    c.locator(".camb-mix").click()
    assert c.locator(".camb-mix").get_attribute("aria-pressed") == "true"
    assert audible(c) == {"original": False, "foreground": True, "background": True}
    assert switch.get_attribute("aria-checked") == "false"
    c.locator(".camb-lane-background .camb-solo").click()
    assert audible(c) == {"original": False, "foreground": False, "background": True}
    assert c.locator(".camb-lane-background .camb-solo").get_attribute("aria-pressed") == "true"
    c.locator(".camb-lane-background .camb-solo").click()
    c.locator(".camb-lane-original .camb-mute").click()  # un-mute the original
    assert all(audible(c).values())
    g = gains(page, c)
    # Original + foreground + background is the mix twice: the master gain keeps it in range.
    import numpy as np

    peak = float(np.abs(sf.read(str(clip), dtype="float32")[0]).max())
    assert abs(g["master"] - min(1.0, 0.977 / (2 * peak))) < 0.05, (g, peak)
    c.locator(".camb-lane-original .camb-mute").click()
    c.locator(".camb-mix").click()  # back to A/B
    assert audible(c) == {"original": True, "foreground": False, "background": False}


def check_states(page: Any, name: str) -> list[str]:
    states = page.evaluate("(n) => window.__cambStates[n] || []", name)
    order = ["uploading", "validating", "submitting", "queued", "separating", "preparing", "done"]
    positions = [states.index(s) for s in order if s in states]
    assert positions == sorted(positions), states
    assert states[-1] == "done" and "uploading" in states and "validating" in states, states
    # A fast job may finish between two polls, so the service is seen in one of its states.
    assert "queued" in states or "separating" in states, states
    return states


def check_bad_file(page: Any, bad: Path, via: str = "picker") -> None:
    """A file that can never succeed: the reason, no Retry, "Choose another file" instead."""
    if via == "drop":
        drop(page, bad)
    else:
        upload(page, bad)
    c = card(page, bad.name)
    c.locator(".camb-error-message").wait_for(timeout=60_000)
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('.camb-card[data-state=failed] .camb-name')]"
        ".some((e) => e.textContent === n)",
        arg=bad.name,
        timeout=60_000,
    )
    message = c.locator(".camb-error-message").inner_text()
    assert bad.name in message, message
    hint = c.locator(".camb-error-hint")
    if hint.is_visible():  # a hint adds to the message, never repeats it
        text = hint.inner_text()
        assert text.rstrip(".").lower() not in message.lower(), (message, text)
        assert "FLAC, MP3, WAV" not in text, text
    assert not c.locator(".camb-retry").is_visible()
    choose = c.locator(".camb-choose")
    assert choose.is_visible()
    assert choose.get_attribute("aria-label") == f"Choose another file instead of {bad.name}"


# Where everything sits, per card: ruler labels, the name, every control.
LAYOUT = """() => [...document.querySelectorAll('.camb-card:not([hidden])')].map((card) => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, w: r.width, h: r.height}; };
  const name = card.querySelector('.camb-name');
  const controls = [...card.querySelectorAll('button, select, summary, [tabindex="0"]')]
    .filter((e) => e.offsetParent !== null && e.getClientRects().length)
    .map((e) => ({what: e.getAttribute('aria-label') || e.textContent.trim(), ...box(e)}));
  const ruler = card.querySelector('.camb-ruler');
  // What of the card can be seen: its box cut by every ancestor that clips (JupyterLab's
  // output area and panels scroll or hide what overflows them).
  const seen = box(card);
  for (let e = card.parentElement; e; e = e.parentElement) {
    const style = getComputedStyle(e);
    if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
    const r = e.getBoundingClientRect();
    seen.left = Math.max(seen.left, r.left + e.clientLeft);
    seen.right = Math.min(seen.right, r.left + e.clientLeft + e.clientWidth);
  }
  return {
    name: name.textContent, nameWidth: name.clientWidth, nameNeeds: name.scrollWidth,
    nameHeight: name.clientHeight, nameTall: name.scrollHeight,
    nameShown: name.dataset.shown || name.textContent,
    card: box(card), visible: seen, ruler: ruler ? box(ruler) : null,
    ticks: ruler ? [...ruler.querySelectorAll('.camb-tick')].map((t) => ({
      label: t.textContent, ...box(t)})) : [],
    controls, viewport: document.documentElement.clientWidth,
  };
})"""


def check_layout(width: int, cards: list[dict[str, Any]]) -> None:
    for c in cards:
        where = f"{c['name']} at {width} px"
        # The file name is shown whole (wrapped if need be), never cut at its end ("spe…").
        assert c["nameNeeds"] <= c["nameWidth"] + 1, (where, "name cut", c)
        assert c["nameTall"] <= c["nameHeight"] + 1, (where, "name cut", c)
        assert c["nameShown"] == c["name"], (where, c)
        ticks = sorted(c["ticks"], key=lambda t: t["left"])
        assert len(ticks) >= 3, (where, ticks)
        for a, b in itertools.pairwise(ticks):
            assert b["left"] >= a["right"] + 2, (where, "ruler labels overlap", a, b)
        for t in ticks:
            assert c["ruler"]["left"] - 1 <= t["left"] and t["right"] <= c["ruler"]["right"] + 1
        card, seen = c["card"], c["visible"]
        assert seen["right"] - seen["left"] >= card["w"] - 1, (where, "card cut off", card, seen)
        for ctl in c["controls"]:
            assert seen["left"] - 0.5 <= ctl["left"] and ctl["right"] <= seen["right"] + 0.5, (
                where,
                "control cut off",
                ctl,
            )
            assert ctl["right"] <= c["viewport"] + 0.5, (where, "control off screen", ctl)
        # No control sits on another.
        boxes = [b for b in c["controls"] if b["w"] > 0 and b["h"] > 0]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                overlap_x = min(a["right"], b["right"]) - max(a["left"], b["left"])
                overlap_y = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
                assert overlap_x <= 1 or overlap_y <= 1, (where, "controls overlap", a, b)
