"""What the browser shows, from Python: ``zoom``, ``view``, ``selection``; tiles on request."""

from __future__ import annotations

import json
import time

import pytest

from camb_notebook._exceptions import InputError

from .test_widget import KEY, RecordingWidget, _message


@pytest.fixture
def done(stand_in, clip_files):
    w = RecordingWidget(pipeline=stand_in)
    clip_id = w.add_file(clip_files["mix"])
    w.wait(timeout=60)
    yield w, clip_id
    w.close()


def test_before_any_zoom_the_view_is_the_whole_clip_and_nothing_is_selected(done):
    w, clip_id = done
    assert w.view() == (0.0, pytest.approx(2.0, abs=0.01))
    assert w.view(clip_id) == w.view("mix.wav")
    assert w.selection() is None


def test_zoom_from_python_is_in_the_synced_state_for_the_browser_to_follow(done):
    w, clip_id = done
    w.zoom(0.5, 1.25)
    entry = w.views[clip_id]
    assert (entry["start"], entry["end"], entry["by"], entry["n"]) == (0.5, 1.25, "python", 1)
    assert w.view() == (0.5, 1.25)
    w.zoom(0.0, 2.0)
    assert w.views[clip_id]["n"] == 2  # each call is followed once, even to the same span


def test_what_the_browser_reports_is_what_view_and_selection_return(done):
    w, clip_id = done
    # As a wheel zoom and a Shift+drag arrive: the browser's state update of `views`.
    w.set_state(
        {
            "views": {
                clip_id: {
                    "start": 0.25,
                    "end": 0.75,
                    "selection": [0.3, 0.6],
                    "by": "browser",
                    "n": 0,
                }
            }
        }
    )
    assert w.view() == (0.25, 0.75)
    assert w.selection() == (0.3, 0.6)
    w.zoom(1.0, 1.5)
    assert w.selection() == (0.3, 0.6)  # a zoom keeps the selection


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [
        (1.5, 1.0, r"start=1.5, end=1.0 is not a span of mix.wav \(0 <= start < end <= 2"),
        (-1, 1, "pass a span inside the clip"),
        (0, 30, r"end <= 2"),
        ("a", 1, "must be numbers of seconds"),
    ],
)
def test_bad_spans_name_the_clip_and_its_limits(done, start, end, match):
    w, _ = done
    with pytest.raises(InputError, match=match):
        w.zoom(start, end)


def test_no_finished_clip_says_what_to_do(stand_in):
    w = RecordingWidget(pipeline=stand_in)
    try:
        with pytest.raises(InputError, match=r"no finished clip yet: add one"):
            w.view()
        with pytest.raises(InputError, match="no clip 'nope'"):
            w.zoom(0, 1, clip="nope")
    finally:
        w.close()


def test_tiles_are_sent_as_binary_buffers_from_the_tile_thread(done):
    w, clip_id = done
    _message(
        w,
        {
            "type": "tiles",
            "clip_id": clip_id,
            "view_id": "v",
            "request_id": 1,
            "lanes": ["original", "foreground", "nonsense"],
            "tiles": [[6, 10], [6, 11]],
        },
    )
    deadline = time.monotonic() + 30
    while len(w.of_type("tile")) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    tiles = w.of_type("tile")
    assert sorted((c["lane"], c["index"]) for c, _ in tiles) == [
        ("foreground", 10),
        ("foreground", 11),
        ("original", 10),
        ("original", 11),
    ]
    for content, (peaks, png) in tiles:
        assert png[:4] == b"\x89PNG" and len(peaks) == 2 * 4 * content["columns"]
        assert content["attempt"] == 1 and content["request_id"] == 1
        assert content["t1"] > content["t0"]
    assert w.bytes_sent >= sum(len(b) for _, bs in tiles for b in bs)


def test_saved_state_holds_the_window_but_no_tiles_audio_or_key(stand_in, clip_files):
    w = RecordingWidget(pipeline=stand_in, api_key=None)
    try:
        clip_id = w.add_file(clip_files["mix"])
        w.wait(timeout=60)
        w.zoom(0.5, 1.0)
        _message(
            w,
            {
                "type": "tiles",
                "clip_id": clip_id,
                "view_id": "v",
                "request_id": 1,
                "lanes": ["original"],
                "tiles": [[5, 3]],
            },
        )
        full = w.get_state()
        state = json.dumps(
            {k: v for k, v in full.items() if k not in ("_esm", "_css")}, default=str
        )
        assert len(state) < 50_000  # the views add a few numbers per clip
        assert KEY not in state and "PNG" not in state and "OggS" not in state
        assert json.loads(json.dumps(w.get_state()["views"]))[clip_id]["end"] == 1.0
    finally:
        w.close()
