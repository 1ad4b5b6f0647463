"""How fast the mask lab answers a knob, for a 5 s span of the bundled example.

Run from the repository root::

    python benchmarks/bench_lab.py            # print the table
    python benchmarks/bench_lab.py --write    # also update RESULTS.md (lab section)

The lab (``camb_notebook.lab.MaskLab``) is built once from the two methods' masks of the
example (15 s, 48 kHz stereo); then each knob setting is applied ``--repeat`` times and the
median and the slowest are reported, with and without making the Opus player the notebook
shows, in wall and in CPU time. The budget is 300 ms per move. As a reference measured in
the same run, one ``librosa.istft`` of the span (what any re-synthesis costs) gives the ratio
column. The SDR
of each setting against the true stems is listed too: the notebook's checks use these
numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _results import write_section  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECTION = "lab"
BUDGET_MS = 300.0


def _times(fn, repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each call (CPU: this process, all its threads)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--start", type=float, default=5.0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    import librosa

    from camb_notebook.examples import example_truth
    from camb_notebook.lab import MaskLab
    from camb_notebook.methods import available_methods, get_method

    load_before = os.getloadavg()[0]
    truth = example_truth()
    names = [n for n in ("spleeter", "repet") if n in available_methods()]
    build = time.perf_counter()
    masks = {name: get_method(name).masks(truth.original, truth.sr) for name in names}
    if len(masks) == 1:  # without Spleeter's weights: REPET against an even share
        (only,) = masks.values()
        from camb_notebook.methods import SoftMasks

        half = np.full_like(only.foreground, 0.5)
        masks["even"] = SoftMasks(half, half, only.sr, only.n_fft, only.hop, "even")
    masks_s = time.perf_counter() - build
    MaskLab(truth, masks, start=args.start, seconds=5.0)  # librosa's lazy imports, once
    start = time.perf_counter()
    lab = MaskLab(truth, masks, start=args.start, seconds=5.0)
    lab_s = time.perf_counter() - start
    a, b = lab.names

    F = lab.mask() * lab.X
    reference, _ = _times(
        lambda: librosa.istft(F, hop_length=512, n_fft=2048, length=lab.n), args.repeat
    )
    ref_ms = statistics.median(reference)

    settings = [
        (f"{a} (blend 0)", {"blend": 0.0}),
        (f"{b} (blend 1)", {"blend": 1.0}),
        ("half and half", {"blend": 0.5}),
        (f"{a}, sharpness 2", {"blend": 0.0, "sharpness": 2.0}),
        ("blend 0.3, sharpness 0.5", {"blend": 0.3, "sharpness": 0.5}),
    ]
    if lab.has_wiener:
        settings += [(f"{a}, Wiener ×{k}", {"blend": 0.0, "iterations": k}) for k in (1, 2, 3)]
    rows = []
    for label, knobs in settings:
        lab.apply(**knobs)  # warm
        plain, _ = _times(lambda knobs=knobs: lab.apply(**knobs), args.repeat)

        def with_player(knobs=knobs) -> None:
            lab.preview(lab.apply(**knobs).foreground)

        played, played_cpu = _times(with_player, args.repeat)
        r = lab.apply(**knobs)
        rows.append((label, plain, played, played_cpu, r.sdr_foreground, r.sdr_background))
    oracle = lab.oracle()
    load_after = os.getloadavg()[0]

    med = lambda xs: statistics.median(xs)  # noqa: E731
    lines = [
        "## Mask lab (`python benchmarks/bench_lab.py`)",
        "",
        f"A 5 s span (from {args.start:g} s) of the bundled example, 48 kHz stereo; masks of "
        f"{' and '.join(masks)} computed once ({masks_s:.1f} s), the lab built in "
        f"{lab_s * 1000:.0f} ms. Each setting applied {args.repeat} times: median and slowest "
        f"in ms; ratio = median / one `librosa.istft` of the span ({ref_ms:.0f} ms, same run). "
        '"+ player" adds the mono Ogg Opus preview the notebook plays (`MaskLab.preview`). '
        "Budget: "
        f"{BUDGET_MS:.0f} ms per move. Load average {load_before:.1f} at the start, "
        f"{load_after:.1f} at the end, on {os.cpu_count()} cores. A busy machine stretches "
        "wall times by waiting for a core; the CPU time a move uses (the work itself, all "
        "threads) is what it costs on an idle one, so the budget is checked on both.",
        "",
        "| setting | update (ms) | slowest | ratio | + player (ms) | + player, CPU (ms) | "
        "within budget (wall / CPU) | SDR voice (dB) | SDR band (dB) |",
        "|---|---:|---:|---:|---:|---:|:---:|---:|---:|",
    ]
    for label, plain, played, played_cpu, sf, sb in rows:
        ok = " / ".join("yes" if med(ms) <= BUDGET_MS else "**no**" for ms in (played, played_cpu))
        lines.append(
            f"| {label} | {med(plain):.0f} | {max(plain):.0f} | {med(plain) / ref_ms:.1f} | "
            f"{med(played):.0f} | {med(played_cpu):.0f} | {ok} | {sf:.2f} | {sb:.2f} |"
        )
    lines.append(
        f"| oracle (ideal ratio mask) | {oracle.seconds * 1000:.0f} | | | | | | "
        f"{oracle.sdr_foreground:.2f} | {oracle.sdr_background:.2f} |"
    )
    if not lab.has_wiener:
        lines += ["", "Wiener iterations: not measured (a mono clip)."]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
