"""The bundled example clip: 15 s of synthetic speech over a small MIDI band.

The stems ship as Ogg Opus (small); the mixture is made from them on first use so
that ``mixture == foreground + background`` holds exactly, which lets the
teaching notebook compare every method with the truth. See ``data/README.md``
for how it was made and the credits.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ._config import cache_dir
from .audio import Stems, load, save

__all__ = ["example_clip", "example_truth"]


def _stem(name: str) -> Path:
    return Path(str(resources.files("camb_notebook") / "data" / f"example_{name}.ogg"))


def example_truth() -> Stems:
    """The example's true stems, with ``original = foreground + background`` exactly.

    Returns
    -------
    Stems
        Stereo, 48 kHz, 15 s.

    Examples
    --------
    >>> truth = example_truth()
    >>> round(truth.duration), truth.sr
    (15, 48000)
    """
    fg, sr = load(_stem("foreground"))
    bg, _ = load(_stem("background"), sr=sr)
    n = min(fg.shape[1], bg.shape[1])
    fg, bg = fg[:, :n], bg[:, :n]
    return Stems(fg + bg, fg, bg, sr)


def example_clip(folder: str | Path | None = None) -> Path:
    """Path to the example mixture as a FLAC file (written once, then reused).

    Parameters
    ----------
    folder : str or Path, optional
        Where to write it; default the toolkit's cache folder.

    Examples
    --------
    >>> example_clip().suffix
    '.flac'
    """
    target = Path(folder) if folder else cache_dir("examples")
    path = target / "example.flac"
    if not path.exists():
        truth = example_truth()
        save(path, truth.original, truth.sr)
    return path
