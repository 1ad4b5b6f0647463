"""Measures as pandas tables: one row per stem, or one row per clip and run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .._exceptions import InputError
from ..audio import Stems
from ._measures import MEASURES, stem_measures

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Measured", "features", "features_frame", "to_dataframe"]


class Measured(Protocol):
    """What :func:`to_dataframe` reads from a result: its original file and its measures.

    A :class:`camb_notebook.SeparationResult` (``features()`` cached on it) and a run of a
    :class:`camb_notebook.compare.Comparison` both fit.
    """

    @property
    def original(self) -> Path: ...

    def features(self) -> pd.DataFrame:
        """One row per stem, one column per measure (see :func:`features`)."""
        ...


def features_frame(values: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """``{stem: {measure: value}}`` as a DataFrame: a row per stem, a column per measure.

    Columns follow :data:`MEASURES`; a measure not computed for a stem is NaN.

    Examples
    --------
    >>> features_frame({"foreground": {"peak_dbfs": -6.0}, "background": {"rms_dbfs": -20.0}})
                peak_dbfs  rms_dbfs
    stem...
    foreground       -6.0       NaN
    background        NaN     -20.0
    """
    import pandas as pd

    names = [m for m in MEASURES if any(m in row for row in values.values())]
    frame = pd.DataFrame.from_dict(
        {stem: {m: row.get(m, float("nan")) for m in names} for stem, row in values.items()},
        orient="index",
        columns=names,
    )
    frame.index.name = "stem"
    return frame


def features(stems: Stems, *, measures: Any = None) -> pd.DataFrame:
    """The named measures of each stem as a DataFrame (see :data:`MEASURES` for units).

    Computed block by block (:func:`stem_measures`): file-backed stems of any length are
    never decoded whole.

    Parameters
    ----------
    stems : Stems
    measures : optional
        As for :func:`stem_measures`.

    Returns
    -------
    pandas.DataFrame
        Index ``stem`` (original, foreground, background), a column per measure.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.full((1, 8000), 0.1, np.float32)
    >>> features(Stems(x, x, 0 * x, 8000), measures=["rms_dbfs"]).round(1)
                rms_dbfs
    stem...
    original       -20.0
    foreground     -20.0
    background    -120.0
    """
    return features_frame(stem_measures(stems, measures=measures))


def _label(item: Any) -> str:
    for name in ("label", "method"):
        value = getattr(item, name, None)
        if value:
            return str(value)
    return "run"


def _rows(item: Any) -> Iterable[Any]:
    runs = getattr(item, "runs", None)
    if runs is not None and not hasattr(item, "features"):  # a comparison: one row per run
        yield from runs
    else:
        yield item


def to_dataframe(results: Iterable[Measured | Any], *, skip_errors: bool = True) -> pd.DataFrame:
    """One row per clip and run: which clip, which run, and every measure of every stem.

    Parameters
    ----------
    results : iterable
        :class:`camb_notebook.SeparationResult` objects, runs or whole comparisons
        (:class:`camb_notebook.compare.Comparison`, one row per run). Their ``features()``
        are computed once and kept on the result.
    skip_errors : bool
        Leave out exceptions in the list (``separate_many(..., return_exceptions=True)``
        puts them there); else they are an error.

    Returns
    -------
    pandas.DataFrame
        Columns ``clip`` (the original's file name), ``run`` (the run's label, else the
        method), ``method``, ``duration_s``, ``elapsed_s``, then ``<stem>_<measure>`` for
        each stem and measure (e.g. ``foreground_loudness_lufs``; units in
        :data:`MEASURES`).

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> x = np.full((1, 8000), 0.1, np.float32)
    >>> done = SimpleNamespace(  # stands in for a SeparationResult
    ...     original=Path("song.wav"), method="repet", elapsed=1.5,
    ...     features=lambda: features(Stems(x, x, 0 * x, 8000), measures=["rms_dbfs"]))
    >>> row = to_dataframe([done]).iloc[0]
    >>> row["clip"], row["run"], round(float(row["foreground_rms_dbfs"]), 1)
    ('song.wav', 'repet', -20.0)
    """
    import pandas as pd

    rows = []
    for result in results:
        if isinstance(result, BaseException):
            if skip_errors:
                continue
            raise InputError(f"to_dataframe() got an error, not a result: {result!r}")
        for item in _rows(result):
            if not hasattr(item, "features"):
                raise InputError(
                    f"to_dataframe() takes separation results, runs or comparisons, got "
                    f"{type(item).__name__}; for Stems use analysis.features(stems)"
                )
            table = item.features()
            row: dict[str, Any] = {
                "clip": Path(item.original).name,
                "run": _label(item),
                "method": getattr(item, "method", None),
            }
            duration = getattr(item, "duration", None)
            if duration is None and hasattr(item, "stems"):
                duration = item.stems().duration  # file-backed: the lengths only, no decoding
            row["duration_s"] = float(duration) if duration is not None else float("nan")
            row["elapsed_s"] = float(getattr(item, "elapsed", float("nan")))
            for stem, values in table.iterrows():
                for name, value in values.items():
                    row[f"{stem}_{name}"] = value
            rows.append(row)
    return pd.DataFrame(rows)
