"""SeparationWidget's Python side: public API, the message protocol, and what it never leaks."""

from __future__ import annotations

import asyncio
import io
import threading

import numpy as np
import pytest
import soundfile as sf

from camb_notebook._exceptions import InputError, WaitTimeoutError
from camb_notebook.widget import SeparationWidget

KEY = "sk-widget-test-secret-0042"


class RecordingWidget(SeparationWidget):
    """Keeps every custom message the widget sends to the browser."""

    def __init__(self, *args, **kwargs):
        self.sent: list[tuple[dict, list[bytes]]] = []
        super().__init__(*args, **kwargs)

    def send(self, content, buffers=None):
        self.sent.append((content, [bytes(b) for b in buffers or ()]))

    def of_type(self, kind):
        return [(c, b) for c, b in self.sent if c.get("type") == kind]


@pytest.fixture
def widget(stand_in):
    w = RecordingWidget(pipeline=stand_in)
    yield w
    w.close()


def _message(w, content, buffers=()):
    w._on_message(w, content, [memoryview(b) for b in buffers])


def _upload(w, name, data, chunk=1 << 16, upload_id="up-1"):
    _message(w, {"type": "upload-start", "upload_id": upload_id, "name": name, "size": len(data)})
    for offset in range(0, len(data), chunk):
        _message(
            w,
            {"type": "upload-chunk", "upload_id": upload_id, "offset": offset},
            [data[offset : offset + chunk]],
        )
    _message(w, {"type": "upload-end", "upload_id": upload_id})


def test_add_file_wait_results(widget, clip_files):
    clip_id = widget.add_file(clip_files["mix"])
    results = widget.wait(timeout=60)
    assert [r.original for r in results] == [clip_files["mix"]]
    state = widget.clip(clip_id)
    assert state["state"] == "done" and state["lanes"] == ["original", "foreground", "background"]
    assert widget.clips[0]["facts"]["sample_rate"] == 22050
    assert results[0].stems().duration == pytest.approx(2.0, abs=0.01)


def test_add_file_refuses_a_missing_path(widget, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        widget.add_file(tmp_path / "nope.wav")


def test_browser_upload_in_chunks_is_acked_and_separated(widget, clip_files):
    data = clip_files["mix"].read_bytes()
    _upload(widget, "from browser.wav", data)
    acks = [c["received"] for c, _ in widget.of_type("upload-ack")]
    assert acks[0] == 0 and acks[-1] == len(data) and acks == sorted(acks)
    assert len(acks) == 1 + -(-len(data) // (1 << 16))
    widget.wait(timeout=60)
    clip = widget._clips[0]
    assert clip.state == "done" and clip.source == "browser"
    assert clip.path.read_bytes() == data and clip.path.name == "from_browser.wav"


def test_upload_progress_is_in_the_clip_state(widget, clip_files):
    data = clip_files["mix"].read_bytes()
    seen: list[float] = []
    widget.observe(
        lambda ch: seen.extend(
            c["progress"] for c in ch.new if c["state"] == "uploading" and c["progress"]
        ),
        "clips",
    )
    _upload(widget, "a.wav", data, chunk=8192)
    assert seen and seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    assert len(seen) <= 101  # one update per percent at most
    widget.wait(timeout=60)


def test_non_audio_upload_fails_with_the_reason(widget, clip_files):
    _upload(widget, "notes.wav", clip_files["text"].read_bytes())
    widget.wait(timeout=30)
    state = widget.clips[0]
    assert state["state"] == "failed"
    assert "notes.wav" in state["message"] and "FLAC, MP3, WAV" in state["message"]
    assert state["action"] == "choose-file" and "FLAC" not in state["hint"]
    assert "notes.wav" in widget.errors


def test_broken_upload_fails_the_clip(widget):
    _message(widget, {"type": "upload-start", "upload_id": "u", "name": "a.wav", "size": 10})
    _message(widget, {"type": "upload-chunk", "upload_id": "u", "offset": 4}, [b"1234"])
    assert widget.clips[0]["state"] == "failed"
    assert "chunk at byte 4" in widget.clips[0]["message"]
    assert widget.of_type("upload-error")


def test_media_request_sends_lane_pictures_and_one_preview_of_all_lanes(widget, clip_files):
    clip_id = widget.add_file(clip_files["mix"])
    widget.wait(timeout=60)
    _message(
        widget,
        {"type": "media", "clip_id": clip_id, "lanes": ["original", "foreground"], "preview": True},
    )
    lanes = widget.of_type("lane")
    assert [c["lane"] for c, _ in lanes] == ["original", "foreground"]
    for content, buffers in lanes:
        peaks, png = buffers
        assert png[:4] == b"\x89PNG" and len(peaks) % 8 == 0
        assert content["silent"] is False and content["level_db"] < 0
    [(preview, [audio])] = widget.of_type("preview")
    assert audio[:4] == b"OggS" and preview["mime"].startswith("audio/ogg")
    assert preview["lanes"] == ["original", "foreground", "background", "residual"]
    assert preview["channels"] == 8 and len(preview["headroom"]) == 16
    sent = [b for _, bs in lanes for b in bs] + [audio]
    assert widget.bytes_sent == sum(len(b) for b in sent)
    # A still picture of the finished clip is in the synced state: a small PNG, no audio.
    picture = widget.pictures[clip_id]
    assert picture.startswith("data:image/png;base64,") and len(picture) < 40_000


def test_residual_on_demand_then_download_of_a_stem(widget, clip_files):
    clip_id = widget.add_file(clip_files["mix"])
    widget.wait(timeout=60)
    changed = threading.Event()
    widget.observe(lambda ch: changed.set() if "residual" in ch.new[0]["lanes"] else None, "clips")
    _message(widget, {"type": "media", "clip_id": clip_id, "lanes": ["residual"]})
    assert changed.wait(30), (widget.clips, widget.errors)
    _message(widget, {"type": "media", "clip_id": clip_id, "lanes": ["residual"]})
    assert [c["lane"] for c, _ in widget.of_type("lane")] == ["residual"]

    _message(
        widget, {"type": "download", "clip_id": clip_id, "lane": "foreground", "request_id": "r"}
    )
    parts = widget.of_type("file")
    assert parts[-1][0]["last"] and parts[0][0]["name"] == "mix_foreground.flac"
    assert b"".join(b[0] for _, b in parts) == clip_files["foreground"].read_bytes()

    # The residual is written on request, in blocks, through the widget's own readers.
    widget.sent.clear()
    _message(
        widget, {"type": "download", "clip_id": clip_id, "lane": "residual", "request_id": "s"}
    )
    parts = widget.of_type("file")
    assert parts[-1][0]["last"] and parts[0][0]["name"] == "mix_residual.flac"
    residual, _ = sf.read(io.BytesIO(b"".join(b[0] for _, b in parts)), dtype="float32")
    mix, _ = sf.read(clip_files["mix"], dtype="float32")
    fg, _ = sf.read(clip_files["foreground"], dtype="float32")
    bg, _ = sf.read(clip_files["background"], dtype="float32")
    assert residual.shape == mix.shape
    assert np.allclose(residual, mix - fg - bg, atol=1e-4)


def test_cancel_and_retry_from_the_browser(gated, clip_files):
    w = RecordingWidget(pipeline=gated)
    clip_id = w.add_file(clip_files["mix"])
    assert gated.separating.wait(30)
    _message(w, {"type": "cancel", "clip_id": clip_id})
    assert w.clip(clip_id)["state"] == "cancelled"
    gated.release.set()
    _message(w, {"type": "retry", "clip_id": clip_id})
    w.wait(timeout=60)
    assert w.clip(clip_id)["state"] == "done" and w.clip(clip_id)["attempt"] == 2
    _message(w, {"type": "remove", "clip_id": clip_id})
    assert w.clips == [] and w.results == []
    w.close()


def test_wait_times_out_naming_the_running_clips(gated, clip_files):
    w = RecordingWidget(pipeline=gated)
    w.add_file(clip_files["mix"])
    with pytest.raises(WaitTimeoutError, match=r"mix.wav still ran"):
        w.wait(timeout=0.2)
    gated.release.set()
    assert len(w.wait(timeout=60)) == 1
    w.close()


def test_wait_does_not_wait_for_browser_uploads_in_progress(widget):
    _message(widget, {"type": "upload-start", "upload_id": "u", "name": "a.wav", "size": 10})
    assert widget.wait(timeout=1) == []


def test_done_is_awaitable_and_callbacks_run(stand_in, clip_files):
    w = RecordingWidget(pipeline=stand_in)
    got = []

    @w.on_complete
    def collect(result):
        got.append(result)

    @w.on_complete
    def broken(result):
        raise RuntimeError("user callback bug")

    w.add_file(clip_files["mix"])
    results = asyncio.run(w.done(timeout=60))
    assert got == results and len(results) == 1
    assert "user callback bug" in w.clips[0]["message"]  # shown, not swallowed
    w.close()


def test_options_are_checked():
    with pytest.raises(InputError, match="backend='gpu'"):
        SeparationWidget("gpu")
    with pytest.raises(InputError, match="folder_id='7'"):
        SeparationWidget(folder_id="7")
    with pytest.raises(InputError, match="max_workers=0"):
        SeparationWidget(max_workers=0)


def test_backend_label_says_where_clips_go(monkeypatch):
    assert SeparationWidget().backend_label == "local engine"
    assert SeparationWidget(api_key=KEY).backend_label == "CAMB.AI cloud"
    monkeypatch.setenv("CAMB_API_KEY", KEY)
    assert SeparationWidget().backend_label == "CAMB.AI cloud"
    assert SeparationWidget("local").backend_label == "local engine"


def test_cancel_during_browser_upload_drops_the_partial_file(widget, clip_files):
    data = clip_files["mix"].read_bytes()
    _message(widget, {"type": "upload-start", "upload_id": "u", "name": "a.wav", "size": len(data)})
    _message(widget, {"type": "upload-chunk", "upload_id": "u", "offset": 0}, [data[:1000]])
    partial = widget._uploads.get("u").path
    assert partial.exists()
    _message(widget, {"type": "cancel", "clip_id": widget.clips[0]["id"]})
    assert widget.clips[0]["state"] == "cancelled" and not partial.exists()
    # Chunks still in flight are refused, so the browser stops sending.
    _message(widget, {"type": "upload-chunk", "upload_id": "u", "offset": 1000}, [data[1000:2000]])
    assert widget.of_type("upload-error")[-1][0]["upload_id"] == "u"


def test_browser_abort_fails_the_clip_with_the_reason(widget):
    _message(widget, {"type": "upload-start", "upload_id": "u", "name": "a.wav", "size": 10})
    _message(widget, {"type": "upload-abort", "upload_id": "u", "reason": "the view was closed"})
    state = widget.clips[0]
    assert state["state"] == "failed" and "the view was closed" in state["message"]


def test_style_sheet_is_self_contained():
    from pathlib import Path

    import camb_notebook.widget as pkg

    css = (Path(pkg.__file__).parent / "widget.css").read_text()
    assert "@import" not in css and "url(" not in css
