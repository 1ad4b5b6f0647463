"""The one preview of all lanes: channels in lane order, sample-aligned, and the headroom table."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from camb_notebook.audio import Stems
from camb_notebook.widget._preview import HEADROOM_LIMIT, encode_preview, headroom
from camb_notebook.widget._states import LANES

SR = 44100


def _decode(ogg: bytes, channels: int) -> np.ndarray:
    """(channels, n) float32 at 48 kHz, decoded by ffmpeg (PyAV's to_ndarray cannot do
    unordered 8-channel layouts)."""
    ffmpeg = shutil.which("ffmpeg") or pytest.skip("ffmpeg is needed to decode the preview")
    raw = subprocess.run(
        [ffmpeg, "-v", "error", "-i", "-", "-f", "f32le", "-"],
        input=ogg,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, channels).T


def _tone_stems(seconds: float = 2.0, channels: int = 2) -> Stems:
    """Foreground and background tones with a click at 1.000 s in every lane but the residual."""
    t = np.arange(int(seconds * SR)) / SR
    fg = np.stack([0.4 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 440 * t)])
    bg = np.stack([0.3 * np.sin(2 * np.pi * 220 * t)] * 2)
    fg[:, SR : SR + 40] += 0.2
    bg[:, SR : SR + 40] += 0.2
    fg, bg = fg[:channels].astype(np.float32), bg[:channels].astype(np.float32)
    return Stems(fg + bg, fg, bg, SR)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


def test_lanes_are_channel_pairs_in_lane_order():
    stems = _tone_stems()
    preview = encode_preview(stems, bitrate=32000)
    assert preview.audio[:4] == b"OggS" and preview.lanes == LANES and preview.channels == 8
    head = preview.audio[preview.audio.index(b"OpusHead") :]
    assert head[9] == 8 and head[18] == 255  # 8 channels, mapping family 255 (discrete)
    x = _decode(preview.audio, 8)[:, 4800:-4800]  # away from the codec's start-up
    expected = [
        stems.original,
        stems.foreground,
        stems.background,
        stems.original - stems.foreground - stems.background,
    ]
    for k, lane in enumerate(expected):
        for ch in range(2):
            want = _rms(lane[ch])
            got = _rms(x[2 * k + ch])
            assert got == pytest.approx(want, abs=0.02), (LANES[k], ch, got, want)


def test_lanes_are_sample_aligned_in_the_one_file():
    x = _decode(encode_preview(_tone_stems(), bitrate=32000).audio, 8)
    # The click is in the original, the foreground and the background: same sample in each.
    onsets = []
    for ch in (0, 2, 4):
        hp = np.diff(x[ch])  # the tones barely change per sample; the click's edge does
        onsets.append(int(np.argmax(np.abs(hp[40000:60000]))) + 40000)
    assert max(onsets) - min(onsets) <= 1, onsets


def test_a_mono_clip_has_one_channel_per_lane():
    preview = encode_preview(_tone_stems(channels=1), bitrate=32000)
    assert preview.channels == 4 and preview.channels_per_lane == 1
    x = _decode(preview.audio, 4)
    assert x.shape[0] == 4 and _rms(x[3, 4800:-4800]) < 0.01  # residual: silent


def test_headroom_keeps_every_sum_under_full_scale_and_leaves_single_lanes_alone():
    stems = _tone_stems()
    gains = headroom(stems)
    assert len(gains) == 1 << len(LANES)
    lanes = [
        stems.original,
        stems.foreground,
        stems.background,
        stems.original - stems.foreground - stems.background,
    ]
    for mask, gain in enumerate(gains):
        # each lane as the preview holds it: within full scale
        members = [np.clip(lanes[k], -1, 1) for k in range(len(LANES)) if mask >> k & 1]
        if len(members) <= 1:
            assert gain == 1.0
            continue
        peak = np.abs(sum(members)).max()
        assert peak * gain <= HEADROOM_LIMIT + 1e-6
        assert gain == 1.0 or peak * gain == pytest.approx(HEADROOM_LIMIT, rel=1e-3)
    # original + foreground + background is the mix twice: about −6 dB.
    assert gains[0b0111] < 0.6


def test_progress_is_reported_in_fine_steps():
    seen: list[float] = []
    encode_preview(_tone_stems(seconds=5.0), bitrate=16000, progress=seen.append)
    assert len(seen) >= 5 and seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
