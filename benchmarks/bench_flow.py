"""The whole widget flow on the local engine: memory of every process, and time, by clip length.

Run from the repository root::

    python benchmarks/bench_flow.py                       # 1, 10 and 60 minutes; print the table
    python benchmarks/bench_flow.py --write               # also update RESULTS.md (flow section)
    python benchmarks/bench_flow.py --minutes 1 10 --cgroup 10 --torch

Each clip (44.1 kHz stereo, 16-bit WAV, the dev corpus' mixtures tiled to the length, written
block by block) goes through ``w = SeparationWidget(backend="local"); w.add_file(path);
w.wait()`` in a fresh interpreter (the "kernel"), with a fresh cache folder so nothing is
reused. The parent samples the resident memory (RSS) of that process and all its
descendants (the engine and its workers) every 50 ms with psutil and keeps the peak of the
sum. The kernel records when the clip entered "preparing" (stems downloaded) and when it
was done (every lane's pictures and the preview ready).

``--cgroup M`` runs the M-minute flow again inside a memory cgroup (v1) capped at 1.25 GiB
(needs root): peak usage and OOM kills are read from the cgroup. ``--torch`` times the torch
reference's bare separation of the 10-minute clip in the same run (the speed target: the
widget flow at most 0.6× that).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
SECTION = "flow"
SR = 44100
CORPUS = Path("/work/shared/corpus/dev")
CGROUP = Path("/sys/fs/cgroup/memory/camb_flow")
CGROUP_LIMIT = 1342177280  # 1.25 GiB
GIB = 1 << 30


def make_clip(seconds: float, path: Path, corpus: Path = CORPUS) -> Path:
    """The corpus mixtures, concatenated and repeated to ``seconds``, as a 16-bit WAV."""
    import numpy as np
    import soundfile as sf

    mixes = [
        sf.read(p / "mixture.flac", dtype="float32", always_2d=True)[0]
        for p in sorted(q for q in corpus.iterdir() if q.is_dir())
    ]
    one = np.concatenate(mixes, axis=0)
    n = int(seconds * SR)
    with sf.SoundFile(path, "w", SR, one.shape[1], subtype="PCM_16") as f:
        for a in range(0, n, one.shape[0]):
            f.write(one[: min(one.shape[0], n - a)])
    return path


# -- the kernel: one flow in this process --------------------------------------------------


def kernel(path: str) -> dict:
    """``add_file`` then ``wait`` on the local engine; times of the clip's states."""
    from camb_notebook.widget import SeparationWidget

    w = SeparationWidget(backend="local", session=False)
    w.send = lambda content, buffers=None: None  # no front end attached
    seen: dict[str, float] = {}
    seen_cpu: dict[str, float] = {}  # this process' CPU time (all threads) at each state
    stop = threading.Event()
    t0 = time.perf_counter()

    def watch() -> None:
        while not stop.is_set():
            for clip in w.clips:
                if clip["state"] not in seen:
                    seen[clip["state"]] = time.perf_counter() - t0
                    seen_cpu[clip["state"]] = time.process_time()
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    w.add_file(path)
    results = w.wait(timeout=4 * 3600)
    total = time.perf_counter() - t0
    cpu_done = time.process_time()
    stop.set()
    watcher.join()
    clip = w.clips[0]
    out = {
        "state": clip["state"],
        "message": clip.get("message", ""),
        "total": total,
        "preparing_at": seen.get("preparing"),
        "done_at": seen.get("done", total),
        "lanes_cpu": cpu_done - seen_cpu["preparing"] if "preparing" in seen_cpu else None,
        "preview_bytes": len(w._clips[0].preview.audio) if w._clips[0].preview else 0,
        "results": len(results),
    }
    w.close()
    return out


# -- the parent: spawn, sample, read the cgroup ---------------------------------------------


def _tree_rss(root_pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(root_pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def _cgroup_read(name: str) -> str:
    return (CGROUP / name).read_text()


def run_flow(clip: Path, *, cgroup: bool = False) -> dict:
    """One flow in a fresh interpreter; the peak summed RSS of its process tree."""
    with tempfile.TemporaryDirectory(prefix="bench-flow-cache-") as cache:
        env = {**os.environ, "CAMB_NOTEBOOK_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--kernel", str(clip)]
        if cgroup:
            if CGROUP.exists():
                CGROUP.rmdir()
            CGROUP.mkdir()
            (CGROUP / "memory.limit_in_bytes").write_text(str(CGROUP_LIMIT))
            # The shell joins the cgroup, then becomes the kernel: every child inherits it.
            shell = f"echo $$ > {CGROUP}/cgroup.procs && exec " + " ".join(cmd)
            cmd = ["sh", "-c", shell]
        proc = subprocess.Popen(
            cmd, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        peak, samples = 0, 0
        outputs: list[str] = []
        reader = threading.Thread(target=lambda: outputs.append(proc.stdout.read()), daemon=True)
        errors: list[str] = []
        err_reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
        reader.start()
        err_reader.start()
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            samples += 1
            time.sleep(0.05)
        reader.join()
        err_reader.join()
        out: dict = {"rss_peak": peak, "samples": samples, "returncode": proc.returncode}
        if cgroup:
            out["cgroup_max_usage"] = int(_cgroup_read("memory.max_usage_in_bytes"))
            oom = dict(
                line.split() for line in _cgroup_read("memory.oom_control").splitlines() if line
            )
            out["oom_kill"] = int(oom.get("oom_kill", 0))
            CGROUP.rmdir()
        lines = (outputs[0] if outputs else "").strip().splitlines()
        if proc.returncode == 0 and lines:
            out.update(json.loads(lines[-1]))
        else:
            out["error"] = (errors[0] if errors else "")[-1500:]
        return out


def torch_reference(clip: Path) -> dict:
    """The torch reference's bare separation of ``clip`` (bench_methods' worker, fresh process)."""
    code = (
        "import json, sys, time, torch, soundfile as sf\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "torch.set_num_threads(2)\n"
        "from benchmarks._torch_reference import load_estimator, reference_separate\n"
        f"x = sf.read({str(clip)!r}, dtype='float32', always_2d=True)[0].T.copy()\n"
        "est = load_estimator()\n"
        "t0, c0 = time.perf_counter(), time.process_time()\n"
        "reference_separate(est, x)\n"
        "print(json.dumps({'wall': time.perf_counter() - t0, 'cpu': time.process_time() - c0}))\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(rows: dict[float, dict], caged: dict[float, dict], ref: dict | None) -> str:
    def gib(v: float) -> str:
        return f"{v / GIB:.2f} GiB"

    def secs(v: float | None) -> str:
        return "—" if v is None else f"{v:.1f} s"

    load = os.getloadavg()
    lines = [
        "### Whole widget flow (`python benchmarks/bench_flow.py`)",
        "",
        '`w = SeparationWidget(backend="local"); w.add_file(path); w.wait()` in a fresh',
        "interpreter, 44.1 kHz stereo WAV clips tiled from the dev corpus, nothing reused.",
        "*Peak RSS* is the largest sum over the kernel, the engine and its workers (psutil,",
        "sampled every 50 ms). *Lanes* is the kernel's time from the clip entering",
        '"preparing" (stems downloaded) to "done" (every lane\'s pictures and the preview).',
        f"Shared 2-core box; load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
        " (1 / 5 / 15 min).",
        "",
        "| clip | peak RSS, kernel + engine + workers | add_file → done | lanes "
        "(stems downloaded → lanes ready) | lanes, share of the clip | lanes, kernel CPU time |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for minutes, r in sorted(rows.items()):
        if "unfinished" in r:  # stopped at a deadline: what was seen until then
            lines.append(
                f"| {minutes:g} min | {gib(r['rss_peak'])} so far (unfinished after "
                f"{r['unfinished']:.0f} s) | — | — | — | — |"
            )
            continue
        if "error" in r or r.get("state") != "done":
            lines.append(f"| {minutes:g} min | failed: {r.get('message') or 'see log'} | | | | |")
            continue
        lanes = r["done_at"] - r["preparing_at"] if r.get("preparing_at") is not None else None
        share = "—" if lanes is None else f"{100 * lanes / (minutes * 60):.2f} %"
        lines.append(
            f"| {minutes:g} min | {gib(r['rss_peak'])} | {secs(r['total'])} | {secs(lanes)} "
            f"| {share} | {secs(r.get('lanes_cpu'))} |"
        )
    ok = {m: r for m, r in rows.items() if r.get("state") == "done" and "unfinished" not in r}
    if ok:
        lo, hi = min(ok), max(ok)
        if lo != hi:
            growth = ok[hi]["rss_peak"] / ok[lo]["rss_peak"] - 1
            lines += [
                "",
                f"{hi:g} min against {lo:g} min: peak RSS {100 * growth:+.1f} % "
                "(target: within 15 %; every clip ≤ 1.0 GiB).",
            ]
    if caged:
        lines += [
            "",
            f"Inside a memory cgroup (v1) capped at {CGROUP_LIMIT / GIB:.2f} GiB:",
            "",
            "| clip | completed | cgroup peak (`memory.max_usage_in_bytes`) | OOM kills |",
            "| --- | --- | ---: | ---: |",
        ]
        for minutes, r in sorted(caged.items()):
            done = "yes" if r.get("state") == "done" else "**no**"
            if "unfinished" in r:
                done = f"not yet: stopped at a deadline after {r['unfinished']:.0f} s"
            lines.append(
                f"| {minutes:g} min | {done} | {gib(r.get('cgroup_max_usage', 0))} "
                f"| {r.get('oom_kill', '?')} |"
            )
    if ref is not None and 10.0 in rows:
        if "error" in ref:
            lines += ["", "Torch reference: failed."]
        elif rows[10.0].get("state") == "done":
            ratio = rows[10.0]["total"] / ref["wall"]
            lines += [
                "",
                f"Speed, 10 min: the whole widget flow took {rows[10.0]['total']:.1f} s, the torch "
                f"reference's bare separation {ref['wall']:.1f} s ({ref['cpu']:.1f} s CPU) in "
                f"this run: **{ratio:.2f}×** (target ≤ 0.6×).",
            ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="*", default=[1.0, 10.0, 60.0])
    parser.add_argument("--cgroup", type=float, nargs="*", default=[], metavar="MINUTES")
    parser.add_argument("--torch", action="store_true", help="time the torch reference (10 min)")
    parser.add_argument("--write", action="store_true", help="update RESULTS.md")
    parser.add_argument("--json", type=Path, help="also save the raw numbers here")
    parser.add_argument(
        "--from-json", type=Path, nargs="*", help="make the table from saved runs instead"
    )
    parser.add_argument("--kernel", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.kernel:
        print(json.dumps(kernel(args.kernel)))
        return
    if args.from_json:
        rows, caged, ref = {}, {}, None
        for path in args.from_json:
            saved = json.loads(path.read_text())
            rows.update({float(k): v for k, v in saved["rows"].items()})
            caged.update({float(k): v for k, v in saved["caged"].items()})
            ref = saved["ref"] or ref
        text = table(rows, caged, ref)
        print(text)
        if args.write:
            sys.path.insert(0, str(HERE))
            from _results import write_section

            write_section(SECTION, text)
        return
    rows: dict[float, dict] = {}
    caged: dict[float, dict] = {}
    ref = None
    with tempfile.TemporaryDirectory(prefix="bench-flow-") as tmp:
        clips = {}
        for minutes in sorted(set(args.minutes) | set(args.cgroup)):
            clips[minutes] = make_clip(minutes * 60, Path(tmp) / f"clip_{minutes:g}min.wav")
        for minutes in args.minutes:
            rows[minutes] = run_flow(clips[minutes])
            print(f"{minutes:g} min: {json.dumps(rows[minutes])[:600]}", flush=True)
        for minutes in args.cgroup:
            caged[minutes] = run_flow(clips[minutes], cgroup=True)
            print(f"{minutes:g} min in cgroup: {json.dumps(caged[minutes])[:600]}", flush=True)
        if args.torch:
            clip = clips.get(10.0) or make_clip(600, Path(tmp) / "clip_10min.wav")
            ref = torch_reference(clip)
            print(f"torch reference, 10 min: {ref}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "caged": caged, "ref": ref}, indent=1))
    text = table(rows, caged, ref)
    print(text)
    if args.write:
        sys.path.insert(0, str(HERE))
        from _results import write_section

        write_section(SECTION, text)


if __name__ == "__main__":
    main()
