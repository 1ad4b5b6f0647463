"""Kernel time and size of detail-on-demand tiles on a 10-minute clip (issue 16's budgets).

Run from the repository root::

    python benchmarks/bench_tiles.py            # print the table
    python benchmarks/bench_tiles.py --write    # also update RESULTS.md (tiles section)

Real files first: a 16-bit WAV original and FLAC stems, 44.1 kHz stereo. Then the widget's
own tile code runs as the tile thread does: file-backed ``Stems.from_files`` (only windows are
decoded) and ``render_tiles`` for the three shown lanes of one tile position at a time.
Budgets: kernel time per tile ≤ 50 ms, each tile ≤ 200 KB. A tile here is one lane's tile;
the time per position (three lanes from one read) is divided by three. *Cold* is the first
tile in a region (a coarse one makes the summary of its window, once); *warm* is a neighbour
after that. The reference in the same run: one lane's first picture of the whole clip
(``prepare_visuals``, what the widget makes once per lane before any zoom).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import soundfile as sf
from _results import write_section  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECTION = "tiles"
SR = 44100
LANES = ["original", "foreground", "background"]


def _files(seconds: float, folder: Path) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(1)
    paths = folder / "mix.wav", folder / "fg.flac", folder / "bg.flac"
    block = SR * 30
    with (
        sf.SoundFile(paths[0], "w", SR, 2, subtype="PCM_16") as mix,
        sf.SoundFile(paths[1], "w", SR, 2) as fgf,
        sf.SoundFile(paths[2], "w", SR, 2) as bgf,
    ):
        for start in range(0, int(seconds * SR), block):
            t = (start + np.arange(block)) / SR
            f0 = 220 * (1 + 0.25 * ((t * 2).astype(int) % 5)) * (1 + 0.006 * np.sin(11 * t))
            voice = sum(np.sin(k * 2 * np.pi * f0 * t) / k**1.3 for k in range(1, 6)) * 0.2
            fg = np.stack([voice, 0.9 * voice]).astype(np.float32)
            bg = 0.05 * np.sin(2 * np.pi * 110 * t) + rng.standard_normal((2, block)) * 0.03
            bg = bg.astype(np.float32)
            mix.write((fg + bg).T)
            fgf.write(fg.T)
            bgf.write(bg.T)
    return paths


def measure(seconds: float) -> tuple[list[dict[str, float]], dict[str, float]]:
    from camb_notebook.audio import Stems
    from camb_notebook.widget._media import prepare_visuals, spectrogram_scale
    from camb_notebook.widget._tiles import (
        SPEC_HEIGHT,
        SUMMARY_CHUNK,
        SUMMARY_HOP,
        _Summary,
        max_level,
        render_tiles,
    )

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = _files(seconds, Path(tmp))
        with Stems.from_files(*paths) as stems:
            n = stems.n_samples
            x = np.zeros((2, SR), np.float32)
            warm = Stems(x, x, x, SR)
            render_tiles(warm, 3, 1, LANES, scale=(-80.0, 0.0))  # imports aside
            t = time.perf_counter()
            whole = Stems(*(stems.read(0, n).original,) * 3, SR)
            scale = spectrogram_scale(whole)
            prepare_visuals(whole, "original", scale=scale)
            reference = {"first_picture_s": time.perf_counter() - t}
            del whole
            # What the tile thread does when idle after a first zoom: the summary
            # of the whole clip, chunk by chunk (then coarse tiles are "warm").
            t = time.perf_counter()
            full_summary = _Summary(stems, SPEC_HEIGHT)
            per = SUMMARY_CHUNK // SUMMARY_HOP
            chunks = -(-n // SUMMARY_CHUNK)
            for c in range(chunks):
                full_summary.bins(LANES, c * per, (c + 1) * per)
            reference["summary_s"] = time.perf_counter() - t
            reference["summary_mb"] = sum(ch.nbytes for ch in full_summary.chunks.values()) / 1e6
            reference["chunk_ms"] = 1000 * reference["summary_s"] / chunks
            # Levels a zoom on a 1200-px view uses: from 2× (level 3) to the deepest.
            cold_summary = _Summary(stems, SPEC_HEIGHT)
            for level in range(3, max_level(n) + 1):
                count = 2**level
                spots = sorted({count // 7, count // 2, (5 * count) // 6})
                for kind in ("cold", "warm"):
                    if kind == "warm" and n / count / 512 < SUMMARY_HOP:
                        continue  # fine tiles always read their window: cold is all there is
                    times, sizes = [], []
                    for spot in spots:
                        summary = cold_summary if kind == "cold" else full_summary
                        t = time.perf_counter()
                        tiles = render_tiles(
                            stems, level, spot, LANES, scale=scale, summary=summary
                        )
                        times.append((time.perf_counter() - t) / len(LANES))
                        sizes += [tile.nbytes for tile in tiles]
                        cold_summary = _Summary(stems, SPEC_HEIGHT)  # each spot cold
                    rows.append(
                        {
                            "level": level,
                            "kind": kind,
                            "tile_s": (n / count) / SR,
                            "per_column": n / count / 512,
                            "median_ms": 1000 * statistics.median(times),
                            "max_ms": 1000 * max(times),
                            "max_kb": max(sizes) / 1000,
                        }
                    )
    return rows, reference


def table(rows: list[dict[str, float]], reference: dict[str, float], seconds: float) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "## Detail-on-demand tiles (`benchmarks/bench_tiles.py`)",
        "",
        f"{seconds:.0f} s (44.1 kHz stereo) clip (WAV original, FLAC stems), "
        f"file-backed stems; {platform.machine()}, Python {platform.python_version()}, "
        f"{date.today()}, load average {load:.1f} on {os.cpu_count()} cores at the end. "
        "Per lane tile of 512 columns (a position's three lanes from one read, time ÷ 3). "
        "Budgets: ≤ 50 ms per tile, ≤ 200 KB per tile.",
        "",
        "| level | tile spans | samples per column | per tile, median / max "
        "| ÷ reference | coarse, summary made (warm) | largest tile |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by = {(r["level"], r["kind"]): r for r in rows}
    ref = reference["first_picture_s"] * 1000
    for level in sorted({r["level"] for r in rows}):
        cold, warm = by[(level, "cold")], by.get((level, "warm"))
        span = cold["tile_s"]
        spans = f"{span:.1f} s" if span >= 1 else f"{span * 1000:.1f} ms"
        warm_text = f"{warm['median_ms']:.0f} / {warm['max_ms']:.0f} ms" if warm else "—"
        lines.append(
            f"| {level} | {spans} | {cold['per_column']:.3g} | "
            f"{cold['median_ms']:.0f} / {cold['max_ms']:.0f} ms | "
            f"{cold['median_ms'] / ref:.4f} | {warm_text} | "
            f"{max(cold['max_kb'], warm['max_kb'] if warm else 0):.0f} KB |"
        )
    fine = [r for r in rows if r["kind"] == "cold" and r["per_column"] < 1024]
    lines += [
        "",
        f"Reference, same run: one lane's first picture of the whole clip (`prepare_visuals`: "
        f"decode, STFT, PNG) took {ref:.0f} ms; *÷ reference* is a tile's median over that, "
        "the machine-independent number. Fine tiles (under 1024 samples per column, tiles "
        f"under ~12 s) read their own window: worst {max(r['max_ms'] for r in fine):.0f} ms. "
        "Coarse tiles the first time pay for the summary of their window; after a first zoom "
        "the tile thread makes the whole clip's summary when idle "
        f"({reference['summary_s']:.1f} s, "
        f"{reference['chunk_ms']:.0f} ms per 6 s chunk, {reference['summary_mb']:.0f} MB for "
        "three lanes), and from then on coarse tiles are pooled from it (*warm*).",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--write", action="store_true", help="update RESULTS.md")
    args = parser.parse_args()
    rows, reference = measure(args.seconds)
    text = table(rows, reference, args.seconds)
    print(text)
    if args.write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
