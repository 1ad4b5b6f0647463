"""One writer for benchmarks/RESULTS.md: each benchmark owns a section between markers."""

from __future__ import annotations

import os
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = (
    "# Benchmark results\n\n"
    "Written by `python -m benchmarks` (each section by its own script). Times are ratios "
    "against references measured in the same run where a reference exists; the machine is "
    "shared and noisy, so absolute seconds are for orientation only.\n"
)


def write_section(name: str, text: str, path: Path = RESULTS) -> Path:
    """Replace (or append) the ``<!-- name:start -->…<!-- name:end -->`` block of *path*."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    old = path.read_text() if path.exists() else HEADER
    body = text.strip("\n")
    if body.startswith(start):  # tolerate callers that already wrapped their text
        body = body[len(start) :].strip("\n")
    if body.endswith(end):
        body = body[: -len(end)].strip("\n")
    block = f"{start}\n{body}\n{end}"
    if start in old and end in old:
        new = old[: old.index(start)] + block + old[old.index(end) + len(end) :]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(new)
    os.replace(tmp, path)
    return path
