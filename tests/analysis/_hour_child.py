"""Run in a child process by test_long.py: measure an hour-long file and hour-long stems,
and report the traced memory peak of each (imports and JIT warmed up first)."""

from __future__ import annotations

import json
import sys
import time
import tracemalloc

import numpy as np

from camb_notebook import analysis
from camb_notebook.audio import Stems

hour, short = sys.argv[1], sys.argv[2]
analysis.measure(np.zeros((1, 8000), np.float32), 8000)  # imports, numba JIT, filters
out = {}
tracemalloc.start()
start = time.process_time()
# The cheap measures over the hour (the costly ones, onsets and pYIN, keep their memory flat
# too: test_long.py checks them on shorter streams, which take minutes, not tens of them).
cheap = ["loudness_lufs", "peak_dbfs", "rms_dbfs", "silence_fraction", "centroid_hz"]
out["file"] = analysis.measure(hour, measures=cheap)
out["file_peak"] = tracemalloc.get_traced_memory()[1]
out["file_cpu_s"] = time.process_time() - start
tracemalloc.reset_peak()
start = time.process_time()
with Stems.from_files(hour, hour, short) as stems:
    out["stems"] = analysis.features(stems, measures=cheap).to_dict(orient="index")
out["stems_peak"] = tracemalloc.get_traced_memory()[1]
out["stems_cpu_s"] = time.process_time() - start
print(json.dumps(out))
