"""Set-up for running these notebooks under pytest (nbval): offline, with a throw-away cache.

The kernels nbval starts inherit this process's environment, so the notebooks use a
temporary cache folder and the embedded local engine, never a real CAMB.AI account.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("CAMB_NOTEBOOK_CACHE_DIR", tempfile.mkdtemp(prefix="camb-nb-cache-"))
os.environ.pop("CAMB_API_KEY", None)
os.environ.pop("CAMB_BASE_URL", None)
