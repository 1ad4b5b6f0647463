"""Peak memory of uploading a big file with ``Client.submit`` versus a naive ``files=read()``.

Each upload runs in a fresh subprocess that reports its peak RSS (``ru_maxrss``) and its RSS
just before the upload; the difference is what the upload itself cost. The receiving server
(``tests.emulator.Receiver``) counts the body bytes and discards them. Files are sparse WAVs
(a header and silence), so the disk is not what is measured.

Run from the repository root::

    python benchmarks/bench_upload.py                 # 64 MB, 256 MB, 1 GB; writes RESULTS.md
    python benchmarks/bench_upload.py --sizes 64 --no-write

The results go between ``<!-- upload:start -->`` and ``<!-- upload:end -->`` in
``benchmarks/RESULTS.md``; the rest of that file is left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import write_section  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
SECTION = "upload"  # its block in RESULTS.md
MB = 1 << 20


def sparse_wav(path: Path, size: int) -> Path:
    """A WAV header followed by *size* bytes of unwritten (sparse) silence."""
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", (36 + size) & 0xFFFFFFFF) + b"WAVEfmt ")
        f.write(struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16))
        f.write(b"data" + struct.pack("<I", size & 0xFFFFFFFF))
        f.truncate(44 + size)
    return path


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def child(mode: str, path: str, base_url: str) -> None:
    """Upload once and print {"baseline_mb", "peak_mb", "seconds"} as JSON."""
    import httpx

    from camb_notebook.api import Client, TaskStore

    with tempfile.TemporaryDirectory() as tmp:
        store = TaskStore(Path(tmp) / "tasks.sqlite3")
        with Client("bench-key-0000", base_url, store=store) as client:
            client.submit(sparse_wav(Path(tmp) / "warm.wav", 1000))  # imports, pools, sqlite
            baseline = _rss_mb()
            peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            started = time.perf_counter()
            if mode == "client":
                client.submit(path)
            else:
                with open(path, "rb") as f:
                    answer = httpx.post(
                        f"{base_url}/audio-separation",
                        headers={"x-api-key": "bench-key-0000"},
                        files={"media_file": (Path(path).name, f.read(), "audio/wav")},
                        timeout=600,
                    )
                answer.raise_for_status()
            seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"baseline_mb": max(baseline, 0.0), "peak_before_mb": peak_before,
                      "peak_mb": peak, "seconds": seconds}))  # fmt: skip


def run(mode: str, path: Path, base_url: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), base_url],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_results(rows: list[dict[str, float]]) -> None:
    lines = [
        "## Upload memory (`benchmarks/bench_upload.py`)",
        "",
        f"Peak RSS of one process uploading a sparse WAV to a loopback sink; {platform.machine()}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}. *Growth* = peak RSS "
        "minus RSS just before the upload (imports, pool and task store already warm).",
        "",
        "| file | `Client.submit` peak | growth | time | naive `files={...: f.read()}` peak "
        "| growth | time |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        naive = (
            f"{r['naive_peak']:.0f} MB | {r['naive_growth']:.0f} MB | {r['naive_s']:.1f} s"
            if "naive_peak" in r
            else "— | — | —"
        )
        lines.append(
            f"| {r['size_mb']:.0f} MB | {r['client_peak']:.0f} MB | {r['client_growth']:.1f} MB "
            f"| {r['client_s']:.1f} s | {naive} |"
        )
    lines += [
        "",
        "The streamed upload's memory does not grow with the file (it reads 256 KiB chunks; the "
        "time includes hashing the file for the task store); the naive upload holds the whole "
        "file, and httpx's multipart encoding adds copies on top.",
    ]
    write_section(SECTION, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024], help="MB")
    parser.add_argument("--naive-max", type=int, default=1024, help="largest naive upload, MB")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "PATH", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sys.path.insert(0, str(ROOT))
    from tests.emulator import Receiver

    rows = []
    with Receiver() as receiver, tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = sparse_wav(Path(tmp) / f"{size}mb.wav", size * MB)
            c = run("client", path, receiver.base_url)
            row = {
                "size_mb": size,
                "client_peak": c["peak_mb"],
                "client_growth": max(c["peak_mb"] - max(c["baseline_mb"], c["peak_before_mb"]), 0),
                "client_s": c["seconds"],
            }
            if size <= args.naive_max:
                n = run("naive", path, receiver.base_url)
                row.update(
                    naive_peak=n["peak_mb"],
                    naive_growth=n["peak_mb"] - max(n["baseline_mb"], n["peak_before_mb"]),
                    naive_s=n["seconds"],
                )
            rows.append(row)
            print(json.dumps(row), flush=True)
            path.unlink()
    if not args.no_write:
        write_results(rows)
        print("wrote the upload section of benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
