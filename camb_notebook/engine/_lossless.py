"""The engine's stem formats (lossless FLAC 24-bit or WAV 32-bit float) and the one
conversion the server makes on request: a stored stem copied, block by block, into the other.

The worker writes the stems with :func:`camb_notebook.audio.open_writer` while it separates;
this module converts one with the same reader and writer, so there is one encoder of each.
The audio package is imported on first use: the server loads it only when a client asks for
the other format.

Examples
--------
>>> import tempfile
>>> import numpy as np
>>> from camb_notebook.audio import save
>>> stored = save(Path(tempfile.mkdtemp()) / "foreground.flac", np.zeros((1, 8000)), 8000)
>>> converted(stored, "wav").name
'foreground.wav'
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal, get_args

__all__ = ["FORMATS", "MEDIA_TYPES", "StemFormat", "converted"]

#: The formats a stem can be stored in and served as.
StemFormat = Literal["flac", "wav"]
FORMATS: tuple[str, ...] = get_args(StemFormat)
MEDIA_TYPES = {"flac": "audio/flac", "wav": "audio/wav"}

_BLOCK_FRAMES = 1 << 16
# One conversion at a time: two requests for the same missing file must not both
# write it, and conversions are rare enough that a finer lock buys nothing.
_CONVERT_LOCK = threading.Lock()


def converted(stored: Path, fmt: str) -> Path:
    """The stem *stored* as a file in *fmt* beside it, converted once (block by block) if needed.

    FLAC is 24-bit (samples beyond ±1 clipped), WAV 32-bit float (24-bit values fit exactly).
    The file appears under its name only when complete.
    """
    wanted = stored.with_suffix(f".{fmt}")
    if wanted.exists():  # also when it is *stored* itself
        return wanted
    with _CONVERT_LOCK:
        if not wanted.exists():
            from ..audio import open_audio, open_writer

            with (
                open_audio(stored) as source,
                open_writer(wanted, source.sample_rate, source.channels, fmt) as out,
            ):
                for block in source.blocks(_BLOCK_FRAMES):
                    out.write(block)
    return wanted
