"""Kernel-side cost of showing a finished clip in SeparationWidget, and bytes sent to the browser.

Run from the repository root::

    python benchmarks/bench_widget.py            # print the table (30 s and 10 min clips)
    python benchmarks/bench_widget.py --write    # also update RESULTS.md (widget section)

For each clip length, real files are written first (a 16-bit WAV original, FLAC stems),
then the widget's own code runs as it does after a separation: one streamed pass over the
stem files (``widget._prepare.prepare_lanes``) makes every lane's waveform peaks,
spectrogram PNG (on the shared colour scale) and level, the headroom table and the one
multichannel Ogg Opus preview of all four lanes; its wall time, CPU time and peak traced
allocation are reported. The widget then answers the browser's media requests (the three
shown lanes' pictures and the preview, then the residual's pictures); "bytes to the
browser" is what it actually sent as message buffers, plus its synced state (with the
clip's still picture) and its JS/CSS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import soundfile as sf
from _results import write_section  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECTION = "widget"  # its block in RESULTS.md
SR = 44100


def _stems(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """A melody with vibrato (foreground) and pad + noisy hats (background), stereo float32."""
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * SR)) / SR
    notes = np.array([220.0, 247.0, 262.0, 294.0, 330.0, 294.0, 262.0, 247.0])
    f0 = notes[(t * 2).astype(int) % notes.size] * (1 + 0.006 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(k * phase) / k**1.3 for k in range(1, 6)) * 0.2
    fg = np.stack([voice, 0.9 * voice]).astype(np.float32)
    del voice, phase, f0
    pad = (0.05 * np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    hats = (rng.standard_normal((2, t.size)) * 0.03).astype(np.float32)
    return fg, pad[None, :] + hats


def _files(seconds: float, folder: Path) -> tuple[Path, Path, Path]:
    fg, bg = _stems(seconds)
    original, fg_path, bg_path = folder / "mix.wav", folder / "fg.flac", folder / "bg.flac"
    sf.write(original, (fg + bg).T, SR, subtype="PCM_16")
    sf.write(fg_path, fg.T, SR)
    sf.write(bg_path, bg.T, SR)
    return original, fg_path, bg_path


def measure(seconds: float) -> dict[str, float]:
    from camb_notebook.api import SeparationResult
    from camb_notebook.audio import Stems
    from camb_notebook.viz import peaks, spectrogram_db, spectrogram_png
    from camb_notebook.widget import SeparationWidget
    from camb_notebook.widget._media import (
        _SPEC_FRAMES,
        PEAK_BINS,
        SPEC_HEIGHT,
        SPEC_WIDTH,
        preview_bitrate,
    )
    from camb_notebook.widget._prepare import prepare_lanes

    out: dict[str, float] = {"seconds": seconds}
    warm = np.zeros((2, SR), np.float32)  # first-call imports (scipy, matplotlib, PyAV) aside
    prepare_lanes(Stems(warm, warm, warm, SR), bitrate=16000)
    with tempfile.TemporaryDirectory() as tmp:
        original, fg, bg = _files(seconds, Path(tmp))

        # Parts of one lane's pictures by the whole-array functions (for reference).
        with Stems.from_files(original, fg, bg) as stems:
            x = stems.read().foreground
            scale = (-80.0, 0.0)
            t0 = time.perf_counter()
            peaks(x, PEAK_BINS)
            out["peaks"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            S_db, _, freqs = spectrogram_db(x, stems.sr, n_fft=2048, max_frames=_SPEC_FRAMES)
            spectrogram_png(
                S_db, *scale, height=SPEC_HEIGHT, width=SPEC_WIDTH, freqs=freqs, log_freq=True
            )
            out["spectrogram"] = time.perf_counter() - t0
            del x, S_db

        # The widget's own work once the stems are on disk: one streamed pass over the files
        # makes every lane's pictures and level, the headroom table and the preview.
        with Stems.from_files(original, fg, bg) as stems:
            bitrate = preview_bitrate(stems.duration)
            tracemalloc.start()
            t0, c0 = time.perf_counter(), time.process_time()
            prepared = prepare_lanes(stems, bitrate=bitrate)
            out["pass"] = time.perf_counter() - t0
            out["pass_cpu"] = time.process_time() - c0
            out["pass_traced"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        out["bitrate"] = 2 * bitrate  # per stereo lane
        out["audio_bytes"] = len(prepared.preview.audio)

        # The widget's own path from a finished result to "done".
        def pipeline(path, report):
            return SeparationResult(original, fg, bg, base_url="bench")

        w = SeparationWidget(pipeline=pipeline)
        w.send = lambda content, buffers=None: None  # no front end attached here
        t0 = time.perf_counter()
        clip_id = w.add_file(original)
        w.wait(timeout=3600)
        out["three_lanes"] = time.perf_counter() - t0

        # What the widget really sends: three lanes' pictures and the preview, then the
        # residual's pictures (made in the same pass, kept until asked for).
        clip = w._clips[0]
        shown = ["original", "foreground", "background"]
        w._msg_media({"clip_id": clip_id, "lanes": shown, "preview": True}, [])
        out["bytes_three"] = w.bytes_sent
        clip.visuals["residual"] = clip.spare_visuals["residual"]
        w._msg_media({"clip_id": clip_id, "lanes": ["residual"]}, [])
        state = json.dumps(w.get_state(), default=str).encode()
        out["state_bytes"] = len(state)
        out["picture_bytes"] = len(clip.picture)
        out["bytes_total"] = w.bytes_sent + len(state)
        w.close()
    out["load"] = os.getloadavg()[0]
    return out


def table(rows: list[dict[str, float]]) -> str:
    def ms(v: float) -> str:
        return f"{v * 1000:.0f} ms" if v < 10 else f"{v:.1f} s"

    def mb(v: float) -> str:
        return f"{v / 1e6:.2f} MB"

    head = (
        "| | "
        + " | ".join(
            f"{r['seconds'] / 60:g} min clip" if r["seconds"] >= 60 else f"{r['seconds']:g} s clip"
            for r in rows
        )
        + " |"
    )
    lines = [
        "### SeparationWidget (`python benchmarks/bench_widget.py`)",
        "",
        "Kernel-side work after a clip is separated, on the shared 2-core box (44.1 kHz",
        "stereo; one run each; WAV original, FLAC stems on disk). The widget reads the",
        "stem files once, in blocks: a reader thread decodes, the widget's thread makes",
        "every lane's peaks, spectrogram frames and level, the Opus encoder runs on a",
        "third. Budget: a 10-minute clip's lanes in at most 6 s (1 % of its duration).",
        "",
        head,
        "| --- |" + " --- |" * len(rows),
    ]
    spec = [
        ("waveform peaks, one lane (whole array, `viz.peaks`)", "peaks", ms),
        ("spectrogram + PNG, one lane (whole array)", "spectrogram", ms),
        ("**one streamed pass: all 4 lanes' pictures + levels + headroom + preview**", "pass", ms),
        ("  CPU time of that pass (all threads)", "pass_cpu", ms),
        ("  peak traced allocation of that pass (tracemalloc)", "pass_traced", mb),
        ("**widget: finished result to player ready**", "three_lanes", ms),
        ("preview bitrate per stereo lane", "bitrate", lambda v: f"{v / 1000:.0f} kb/s"),
        ("bytes sent: preview of 4 lanes + 3 lanes' pictures", "bytes_three", mb),
        ("bytes sent, + residual's pictures, state, JS/CSS", "bytes_total", mb),
        ("  of which synced state + JS/CSS", "state_bytes", lambda v: f"{v / 1e3:.0f} KB"),
        ("  of which the clip's still picture", "picture_bytes", lambda v: f"{v / 1e3:.1f} KB"),
        ("load average (1 min) at the end", "load", lambda v: f"{v:.1f}"),
    ]
    for label, key, fmt in spec:
        lines.append(f"| {label} | " + " | ".join(fmt(r[key]) for r in rows) + " |")
    lines += [
        "",
        "Budget: a 10-minute clip may send at most 15 MB to the browser, all four lanes",
        "included, before any zoom. The preview is one Ogg Opus file holding every lane",
        "(channel mapping family 255) at a bitrate chosen from the duration (96 kb/s per",
        "stereo lane for short clips); peaks are 1200 min/max pairs and a 1200×112 palette",
        "PNG per lane.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update RESULTS.md")
    parser.add_argument("--durations", type=float, nargs="*", default=[30.0, 600.0])
    args = parser.parse_args()
    rows = [measure(s) for s in args.durations]
    text = table(rows)
    print(text)
    if args.write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
