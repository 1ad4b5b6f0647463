"""Streaming audio: memory that does not follow the clip's length, and decoding speed.

Run from the repository root::

    python benchmarks/bench_audio.py            # print the tables
    python benchmarks/bench_audio.py --write    # also update RESULTS.md (audio section)
    python benchmarks/bench_audio.py --quick    # 1- and 3-minute clips

Measured, each in a fresh interpreter (peak resident memory from ``getrusage``, less what
the interpreter held after its imports):

- ``Stems.from_files(original, stem, stem).levels()`` on 44.1 kHz stereo FLAC clips of
  10 and 60 minutes, against the whole-array way it worked before streaming (decode all
  three, then measure), where that fits in memory;
- the time of a full sequential decode of a 10-minute clip (FLAC, MP3, M4A) by
  ``reader.blocks()``, by ``load()`` (one array), and by the whole-array ``load`` of
  before streaming (kept below as the reference, so the ratio is measured in one run).

The clips are generated block by block into a temporary folder and deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _results import write_section  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
SECTION = "audio"
SR = 44100
MB = 1 << 20


def make_clip(path: Path, minutes: float, scale: float = 1.0, fmt: str | None = None) -> Path:
    """Tones over a little noise, written block by block (making it takes no memory)."""
    from camb_notebook import audio

    rng = np.random.default_rng(int(minutes * 10) + int(scale * 100))
    block = 10 * SR
    with audio.open_writer(path, SR, 2, fmt, bitrate=128000) as w:
        for start in range(0, int(minutes * 60 * SR), block):
            t = (start + np.arange(block)) / SR
            tones = 0.3 * np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)])
            w.write((scale * (tones + 0.05 * rng.standard_normal((2, block)))).astype(np.float32))
    return path


def reference_load(path: str) -> tuple[np.ndarray, int]:
    """``audio.load`` as it was before streaming: every frame kept, then one concatenate."""
    import soundfile as sf

    if path.endswith((".flac", ".wav")):
        samples, sr = sf.read(path, dtype="float32", always_2d=True)
        return np.ascontiguousarray(samples.T), int(sr)
    import av

    chunks = []
    with av.open(path) as container:
        stream = container.streams.audio[0]
        resampler = None
        sr = 0
        for frame in container.decode(stream):
            if resampler is None:
                sr = frame.sample_rate
                resampler = av.AudioResampler(format="fltp", layout=frame.layout.name, rate=sr)
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    return np.ascontiguousarray(np.concatenate(chunks, axis=1), dtype=np.float32), sr


# Each run happens in a fresh interpreter; it prints one JSON line.
_MEMORY = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
import numpy as np
from camb_notebook import audio
import bench_audio
original, stem, way = {original!r}, {stem!r}, {way!r}
with audio.open_audio(original) as r:  # load the libraries before the baseline
    next(r.blocks(1024))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if way == "streaming":
    with audio.Stems.from_files(original, stem, stem) as s:
        levels = s.levels()
else:  # as before streaming: decode everything, then measure
    x, sr = bench_audio.reference_load(original)
    fg, _ = bench_audio.reference_load(stem)
    bg, _ = bench_audio.reference_load(stem)
    levels = audio.Stems.from_arrays(x, fg, bg, sr).levels()
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"before": before * 1024, "peak": peak * 1024, "s": seconds}}))
"""

_DECODE = """
import json, sys, time
sys.path.insert(0, {bench!r})
from camb_notebook import audio
import bench_audio
path, way = {path!r}, {way!r}
t = time.perf_counter()
if way == "blocks":
    with audio.open_audio(path) as r:
        n = sum(b.shape[1] for b in r.blocks())
elif way == "load":
    n = audio.load(path)[0].shape[1]
else:
    n = bench_audio.reference_load(path)[0].shape[1]
print(json.dumps({{"s": time.perf_counter() - t, "n": n}}))
"""


def _fresh(code: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory(minutes: list[float], reference_up_to: float, root: Path) -> list[dict]:
    rows = []
    for m in minutes:
        original = make_clip(root / f"original_{m:g}.flac", m)
        stem = make_clip(root / f"stem_{m:g}.flac", m, 0.5)
        ways = ["streaming"] + (["whole arrays (before)"] if m <= reference_up_to else [])
        for way in ways:
            code = _MEMORY.format(
                bench=str(ROOT / "benchmarks"),
                original=str(original),
                stem=str(stem),
                way="streaming" if way == "streaming" else "whole",
            )
            r = _fresh(code)
            rows.append(
                {
                    "minutes": m,
                    "way": way,
                    "peak_mb": r["peak"] / MB,
                    "delta_mb": (r["peak"] - r["before"]) / MB,
                    "s": r["s"],
                }
            )
            print(rows[-1], flush=True)
        original.unlink()
        stem.unlink()
    return rows


def decode_speed(minutes: float, root: Path, repeat: int) -> list[dict]:
    source = make_clip(root / "speed.flac", minutes)
    rows = []
    for fmt in ("flac", "mp3", "m4a"):
        path = source if fmt == "flac" else root / f"speed.{fmt}"
        if fmt != "flac":
            from camb_notebook import audio

            with audio.open_audio(source) as r, audio.open_writer(path, SR, 2, bitrate=128000) as w:
                for block in r.blocks():
                    w.write(block)
        times = {}
        for way in ("reference", "load", "blocks"):
            code = _DECODE.format(bench=str(ROOT / "benchmarks"), path=str(path), way=way)
            times[way] = statistics.median(_fresh(code)["s"] for _ in range(repeat))
        rows.append({"format": fmt, **times})
        print(rows[-1], flush=True)
        if fmt != "flac":
            path.unlink()
    source.unlink()
    return rows


def table(memory_rows: list[dict], speed_rows: list[dict], speed_minutes: float) -> str:
    lines = [
        "## Streaming audio (`bench_audio.py`)",
        "",
        "`Stems.from_files(original, stem, stem).levels()`, 44.1 kHz stereo FLAC, "
        "peak resident memory of a fresh interpreter (and its growth over the "
        "interpreter with the libraries loaded):",
        "",
        "| clip | way | peak RSS | growth | time |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in memory_rows:
        lines.append(
            f"| {r['minutes']:g} min | {r['way']} | {r['peak_mb']:.0f} MB | "
            f"{r['delta_mb']:.0f} MB | {r['s']:.1f} s |"
        )
    lines += [
        "",
        f"Full sequential decode of a {speed_minutes:g}-minute clip (median of runs, each in a "
        "fresh interpreter); ratios against the whole-array `load` of before streaming:",
        "",
        "| format | before (`load`, whole) | `load` now | `reader.blocks()` | blocks ÷ before |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in speed_rows:
        lines.append(
            f"| {r['format']} | {r['reference']:.2f} s | {r['load']:.2f} s | "
            f"{r['blocks']:.2f} s | {r['blocks'] / r['reference']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 60])
    parser.add_argument("--reference-up-to", type=float, default=10)
    parser.add_argument("--speed-minutes", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.reference_up_to, args.speed_minutes, args.repeat = [1, 3], 3, 1, 1
    with tempfile.TemporaryDirectory(prefix="bench-audio-") as tmp:
        root = Path(tmp)
        speed = decode_speed(args.speed_minutes, root, args.repeat)
        mem = memory(args.minutes, args.reference_up_to, root)
    text = table(mem, speed, args.speed_minutes)
    print(text)
    if args.write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
