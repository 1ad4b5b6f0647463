"""What a user does with the widget in a browser, as steps shared by the Lab and Voila tests."""

from __future__ import annotations

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

LANES_READY = """(n, all = false) => {
  const cards = [...document.querySelectorAll('.camb-card[data-state=done]')];
  return cards[all ? 'every' : 'some']((card) => {
    const audios = [...card.querySelectorAll('audio.camb-audio')];
    return audios.length >= n && audios.every((a) => a.src && a.readyState >= 1
      && Number.isFinite(a.duration));
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


def durations(c: Any) -> dict[str, float]:
    return c.evaluate(
        "(card) => Object.fromEntries([...card.querySelectorAll('audio.camb-audio')]"
        ".map((a) => [a.dataset.lane, a.duration]))"
    )


def playheads(c: Any) -> dict[str, float]:
    """Left position of each lane's playhead, in percent of the lane."""
    return c.evaluate(
        "(card) => Object.fromEntries([...card.querySelectorAll('.camb-lane[data-lane]')]"
        ".map((l) => [l.dataset.lane, parseFloat(l.querySelector('.camb-playhead').style.left)]))"
    )


def current_times(c: Any) -> dict[str, float]:
    return c.evaluate(
        "(card) => Object.fromEntries([...card.querySelectorAll('audio.camb-audio')]"
        ".map((a) => [a.dataset.lane, a.currentTime]))"
    )


def audible(c: Any) -> dict[str, bool]:
    return c.evaluate(
        "(card) => Object.fromEntries([...card.querySelectorAll('audio.camb-audio')]"
        ".map((a) => [a.dataset.lane, !a.muted]))"
    )


def click_at(page: Any, locator: Any, fraction: float) -> None:
    box = locator.bounding_box()
    page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)


def check_player(page: Any, c: Any, clip: Path) -> None:
    """Durations, click and drag to seek, playing, solo and A/B — the whole transport."""
    expected = sf.info(str(clip)).duration
    for lane, seconds in durations(c).items():
        assert abs(seconds - expected) < 0.1, (lane, seconds, expected)

    view = c.locator(".camb-lane-foreground .camb-lane-view")
    click_at(page, view, 0.25)
    heads = playheads(c)
    assert set(heads) == {"original", "foreground", "background"}
    assert all(abs(v - 25) < 1.5 for v in heads.values()), heads
    times = current_times(c)
    assert all(abs(t - 0.25 * expected) < 0.3 for t in times.values()), times

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

    # Play for a moment: the clock runs and the playheads move together.
    c.locator(".camb-play").click()
    page.wait_for_timeout(1200)
    c.locator(".camb-play").click()
    moved = playheads(c)
    assert all(v > 60.5 for v in moved.values()), moved
    assert max(moved.values()) - min(moved.values()) < 0.01

    c.locator(".camb-lane-background .camb-solo").click()
    assert audible(c) == {"original": False, "foreground": False, "background": True}
    assert c.locator(".camb-lane-background .camb-solo").get_attribute("aria-pressed") == "true"
    c.locator(".camb-lane-background .camb-solo").click()
    c.locator(".camb-lane-original .camb-mute").click()
    assert audible(c) == {"original": False, "foreground": True, "background": True}
    c.locator(".camb-lane-original .camb-mute").click()

    ab = c.locator(".camb-ab-toggle")
    ab.click()
    assert audible(c) == {"original": True, "foreground": False, "background": False}
    before = current_times(c)["original"]
    ab.click()
    assert audible(c) == {"original": False, "foreground": True, "background": False}
    assert abs(current_times(c)["foreground"] - before) < 0.1  # same position
    ab.click()
    assert all(audible(c).values())


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
    hint = c.locator(".camb-error-hint").inner_text()
    assert bad.name in message, message
    assert "FLAC, MP3, WAV" in hint, hint
    assert c.locator(".camb-retry").is_visible()
