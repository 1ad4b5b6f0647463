"""Session-wide test set-up: every test run gets its own cache folder."""

from __future__ import annotations

import os
import tempfile

# Set before any camb_notebook import so the task store and caches never touch
# the user's real cache dir.
os.environ.setdefault("CAMB_NOTEBOOK_CACHE_DIR", tempfile.mkdtemp(prefix="camb-test-cache-"))
os.environ.pop("CAMB_API_KEY", None)
os.environ.pop("CAMB_BASE_URL", None)
