"""Scores of the runs of one clip, in one pass over their files: SDR against the truth or
against each other, levels and residual."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._exceptions import InputError
from ..audio import SdrAccumulator, Stems
from ._runs import Run

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Truth", "as_truth", "score_runs"]

#: The true stems: aligned Stems, ``(foreground_path, background_path)`` or a mapping with
#: ``foreground`` and ``background`` paths.
Truth = Stems | Sequence[str | os.PathLike[str]] | Mapping[str, str | os.PathLike[str]]

_BLOCK = 1 << 16
_FLOOR = -120.0


def as_truth(truth: Truth | None, original: str | os.PathLike[str]) -> Stems | None:
    """The true stems as :class:`Stems` aligned to *original* (files are opened lazily).

    Examples
    --------
    >>> as_truth(None, "song.wav") is None
    True
    """
    if truth is None or isinstance(truth, Stems):
        return truth
    if isinstance(truth, Mapping):
        try:
            fg, bg = truth["foreground"], truth["background"]
        except KeyError:
            raise InputError(
                f"truth= as a mapping needs 'foreground' and 'background' paths, got "
                f"{sorted(truth)}",
                parameter="truth",
            ) from None
    elif isinstance(truth, str | os.PathLike) or len(truth) != 2:
        raise InputError(
            "truth= takes the true stems: (foreground_path, background_path), "
            "{'foreground': path, 'background': path} or camb_notebook.audio.Stems",
            parameter="truth",
        )
    else:
        fg, bg = truth
    return Stems.from_files(original, fg, bg)


def _energy(x: np.ndarray) -> float:
    return float(np.einsum("ij,ij->", x, x, dtype=np.float64))


def _db(energy: float, count: int) -> float:
    return max(float(10 * np.log10(energy / count)), _FLOOR) if energy > 0 else _FLOOR


def score_runs(
    runs: Sequence[Run], truth: Stems | None = None, *, block: int = _BLOCK
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores of each run, reading every run's stems (and the truth) block by block.

    Parameters
    ----------
    runs : sequence of Run
        Separations of one clip.
    truth : Stems, optional
        The true stems, aligned to the clip.
    block : int
        Samples per block (memory: one block of every signal).

    Returns
    -------
    metrics : pandas.DataFrame
        A row per run: ``sdr_foreground_db`` and ``sdr_background_db`` (against the truth;
        only with *truth*), ``foreground_dbfs``, ``background_dbfs``, ``residual_dbfs``
        (RMS levels) and ``residual_re_original_db``.
    pairwise : pandas.DataFrame
        SDR in dB of each run's foreground (columns) taking another run's foreground
        (rows) as the reference; the diagonal is empty. High values mean two runs agree.

    Examples
    --------
    >>> # metrics, pairwise = score_runs(comparison.runs, truth)
    """
    import pandas as pd

    if not runs:
        raise InputError("score_runs() needs at least one run")
    stems = [run.stems() for run in runs]
    n = stems[0].n_samples
    for run, s in zip(runs, stems, strict=True):
        if s.n_samples != n:
            raise InputError(f"run {run.label!r} has {s.n_samples} samples, the others {n}")
    if truth is not None and truth.n_samples != n:
        raise InputError(
            f"the true stems hold {truth.n_samples} samples but the clip {n}; give the stems "
            "of this clip (as files, they are aligned to it)"
        )
    k = len(runs)
    energy = {name: np.zeros(k) for name in ("foreground", "background", "residual")}
    original = 0.0
    vs_truth = [(SdrAccumulator(), SdrAccumulator()) for _ in runs]
    pairs = {(i, j): SdrAccumulator() for i in range(k) for j in range(k) if i != j}
    streams: list[Any] = [s.blocks(block) for s in stems]
    if truth is not None:
        streams.append(truth.blocks(block))
    for windows in zip(*streams, strict=True):
        original += _energy(windows[0].original)
        for i in range(k):
            w = windows[i]
            for name in energy:
                energy[name][i] += _energy(getattr(w, name))
            if truth is not None:
                true = windows[-1]
                vs_truth[i][0].add(true.foreground, w.foreground)
                vs_truth[i][1].add(true.background, w.background)
        for (i, j), acc in pairs.items():
            acc.add(windows[i].foreground, windows[j].foreground)
    count = n * stems[0].channels
    rows = {}
    for i, run in enumerate(runs):
        row: dict[str, float] = {}
        if truth is not None:
            row["sdr_foreground_db"] = vs_truth[i][0].value
            row["sdr_background_db"] = vs_truth[i][1].value
        for name in energy:
            row[f"{name}_dbfs"] = _db(energy[name][i], count)
        row["residual_re_original_db"] = row["residual_dbfs"] - _db(original, count)
        rows[run.label] = row
    metrics = pd.DataFrame.from_dict(rows, orient="index")
    metrics.index.name = "run"
    labels = [run.label for run in runs]
    grid = np.full((k, k), np.nan)
    for (i, j), acc in pairs.items():
        grid[i, j] = acc.value
    pairwise = pd.DataFrame(grid, index=labels, columns=labels)
    pairwise.index.name = "reference"
    return metrics, pairwise
