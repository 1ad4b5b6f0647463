"""The engine's stem files: lossless FLAC (24-bit) or WAV (32-bit float), one writer for both
the worker that stores the stems and the server that converts one on request.

numpy and soundfile are imported on first use: the server loads them only when a
client asks for the other format.

Examples
--------
>>> import tempfile
>>> import numpy as np
>>> folder = Path(tempfile.mkdtemp())
>>> write_stem(folder, "foreground", np.array([[0.5, 1.5, -0.25]], np.float32), 8000, "flac")
('foreground.flac', 1)
>>> converted(folder / "foreground.flac", "wav").name
'foreground.wav'
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FORMATS", "MEDIA_TYPES", "StemFormat", "converted", "write_stem"]

#: The formats a stem can be stored in and served as.
StemFormat = Literal["flac", "wav"]
FORMATS: tuple[str, ...] = get_args(StemFormat)
MEDIA_TYPES = {"flac": "audio/flac", "wav": "audio/wav"}

_FLAC_MAX_CHANNELS = 8
_BLOCK_FRAMES = 1 << 16
# One conversion at a time: two requests for the same missing file must not both
# write it, and conversions are rare enough that a finer lock buys nothing.
_CONVERT_LOCK = threading.Lock()


def write_stem(out_dir: Path, stem: str, data: np.ndarray, sr: int, fmt: str) -> tuple[str, int]:
    """Write one stem ``(channels, frames)`` losslessly; return its file name and clipped count.

    FLAC is 24-bit integer PCM (samples beyond ±1 are clipped and counted); WAV is
    32-bit float and bit-exact. FLAC holds at most 8 channels: more are stored as WAV.
    """
    if fmt == "flac" and data.shape[0] > _FLAC_MAX_CHANNELS:
        fmt = "wav"
    name = f"{stem}.{fmt}"
    return name, _encode(out_dir / name, [data.T], sr, data.shape[0])


def converted(stored: Path, fmt: str) -> Path:
    """The stem *stored* as a file in *fmt* beside it, converted once (block by block) if needed."""
    wanted = stored.with_suffix(f".{fmt}")
    if wanted.exists():  # also when it is *stored* itself
        return wanted
    with _CONVERT_LOCK:
        if not wanted.exists():
            import soundfile as sf

            with sf.SoundFile(stored) as source:
                blocks = source.blocks(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                _encode(wanted, blocks, source.samplerate, source.channels)
    return wanted


def _encode(path: Path, blocks: Iterable[np.ndarray], sr: int, channels: int) -> int:
    """Write ``(frames, channels)`` blocks to *path* in the format its suffix names.

    The file appears under its name only when complete, so a reader never sees half
    of it. Returns the number of samples clipped to fit FLAC's integer range.
    """
    import numpy as np
    import soundfile as sf

    flac = path.suffix == ".flac"
    part = path.with_name(path.name + ".part")
    clipped = 0
    with sf.SoundFile(
        part,
        "w",
        samplerate=sr,
        channels=channels,
        format="FLAC" if flac else "WAV",
        subtype="PCM_24" if flac else "FLOAT",
    ) as out:
        for block in blocks:
            if flac:
                clipped += int(np.count_nonzero(np.abs(block) > 1.0))
                block = np.clip(block, -1.0, 1.0)
            out.write(block)
    part.replace(path)
    return clipped
