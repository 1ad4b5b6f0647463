"""Poll an engine steadily from another process: ``python -m tests.engine._poller ...``.

Arguments: base URL, API key, a file of task ids (one per line, appended by the test),
a stop file, an output JSON file, and the polling rate in Hz. Every tick it asks the
status of up to five known tasks (and the engine info); it writes a tally of the answers.
"""

from __future__ import annotations

import collections
import json
import random
import sys
import time
from pathlib import Path

import httpx


def main() -> None:
    base_url, key, ids_file, stop_file, out_file, rate = sys.argv[1:7]
    period = 1.0 / float(rate)
    codes: collections.Counter[int] = collections.Counter()
    last: dict[str, str] = {}
    errors: list[str] = []
    ticks = 0
    with httpx.Client(base_url=base_url, headers={"x-api-key": key}, timeout=10) as client:
        while not Path(stop_file).exists():
            started = time.monotonic()
            ids = Path(ids_file).read_text().split() if Path(ids_file).exists() else []
            for task_id in [*random.sample(ids, min(len(ids), 5)), None]:
                try:
                    path = "/engine" if task_id is None else f"/audio-separation/{task_id}"
                    answer = client.get(path)
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                    continue
                codes[answer.status_code] += 1
                if task_id is not None and answer.status_code == 200:
                    last[task_id] = answer.json()["status"]
            ticks += 1
            time.sleep(max(period - (time.monotonic() - started), 0.0))
    Path(out_file).write_text(
        json.dumps({"codes": dict(codes), "last": last, "errors": errors, "ticks": ticks})
    )


if __name__ == "__main__":
    main()
