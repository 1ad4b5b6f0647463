"""Run a test engine in its own process: ``python -m tests.engine._serve_child '{config json}'``.

Prints one JSON line ``{"base_url": ..., "pid": ...}`` once serving, and stops when its
standard input closes. Used by tests that look at the server from another process.
"""

from __future__ import annotations

import json
import sys

from camb_notebook.engine import EngineConfig, start_engine

from ._methods import METHODS


def main() -> None:
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    engine = start_engine(EngineConfig(extra_methods=METHODS, **options))
    print(json.dumps({"base_url": engine.base_url}), flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    engine.stop()


if __name__ == "__main__":
    main()
