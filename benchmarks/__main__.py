"""Run every benchmark, each in its own process, and rewrite benchmarks/RESULTS.md.

python -m benchmarks            # the full set (about 30 minutes on 2 cores)
python -m benchmarks --quick    # shorter clips and files, for a smoke run
python -m benchmarks methods    # only those named: methods, speech, upload, engine, widget, flow,
                                # audio, lab, tiles
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name: (script, arguments, arguments with --quick)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "methods": ("bench_methods.py", [], ["--quick"]),
    "speech": ("bench_speech.py", [], ["--quick"]),
    "upload": ("bench_upload.py", [], ["--sizes", "64", "256", "--naive-max", "256"]),
    "engine": ("bench_engine.py", ["--write"], ["--write"]),
    "widget": ("bench_widget.py", ["--write"], ["--write", "--durations", "30"]),
    # The whole flow on the local engine (1, 10, 60 min; the cgroup run needs root).
    "flow": ("bench_flow.py", ["--write", "--torch", "--cgroup", "10"], ["--minutes", "1"]),
    "audio": ("bench_audio.py", ["--write"], ["--write", "--quick"]),
    "lab": ("bench_lab.py", ["--write"], ["--write", "--repeat", "3"]),
    "tiles": ("bench_tiles.py", ["--write"], ["--write", "--seconds", "60"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        choices = ", ".join(BENCHMARKS)
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {choices}")
    failed = []
    for name in args.names or list(BENCHMARKS):
        script, full, quick = BENCHMARKS[name]
        cmd = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(cmd, cwd=HERE.parent)
        print(f"== {name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
