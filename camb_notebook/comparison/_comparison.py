"""One clip, several separations: the runs side by side, scored, pictured, reported."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from .._exceptions import InputError
from ..analysis import to_dataframe
from ..api import Client, SeparateKwargs
from ..report import REPORT_BITRATES, REPORT_MAX_AUDIO_BYTES
from . import _display
from ._metrics import Truth, as_truth, score_runs
from ._runs import Run, plan_runs, run_out_dir

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["Comparison", "compare"]


class Comparison:
    """Several separations (runs) of one clip, aligned to it, with their scores.

    Made by :func:`compare`, or from runs a front end made itself
    (``Comparison(runs, truth=...)``). In a notebook it shows the original once, then every
    run's foreground and background on one time axis and one colour scale, the difference
    of the runs' foregrounds, the scores and players.

    Parameters
    ----------
    runs : sequence of Run
        Separations of one clip (the same original file), labels unique.
    truth : Stems, (foreground, background) paths or a mapping, optional
        The true stems; the scores then include each run's SDR against them.

    Attributes
    ----------
    original : Path
    runs : list of Run
    truth : Stems or None

    Examples
    --------
    >>> comparison = compare("song.wav", methods=["spleeter", "repet"])  # doctest: +SKIP
    >>> comparison.metrics()  # doctest: +SKIP
    """

    def __init__(self, runs: Sequence[Run], truth: Truth | None = None) -> None:
        runs = list(runs)
        if not runs:
            raise InputError("a comparison needs at least one run")
        labels = [run.label for run in runs]
        if len(set(labels)) != len(labels):
            raise InputError(f"run labels must differ, got {labels}")
        originals = {Path(run.original).resolve() for run in runs}
        if len(originals) != 1:
            raise InputError(
                f"the runs separate different clips ({sorted(p.name for p in originals)}); a "
                "comparison is of one clip"
            )
        self.runs = runs
        self.original = Path(runs[0].original)
        self.truth = as_truth(truth, self.original)
        self._scores: tuple[pd.DataFrame, pd.DataFrame] | None = None

    def __repr__(self) -> str:
        truth = ", with truth" if self.truth is not None else ""
        return f"<Comparison of {self.original.name}: {', '.join(self.labels)}{truth}>"

    @property
    def labels(self) -> list[str]:
        """The runs' labels, in order."""
        return [run.label for run in self.runs]

    def __getitem__(self, label: str) -> Run:
        for run in self.runs:
            if run.label == label:
                return run
        raise KeyError(f"no run {label!r}; runs: {', '.join(self.labels)}")

    def __len__(self) -> int:
        return len(self.runs)

    # -- numbers ------------------------------------------------------------------------------
    def _scored(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        if self._scores is None:
            self._scores = score_runs(self.runs, self.truth)
        return self._scores

    def metrics(self) -> pd.DataFrame:
        """A row per run: SDR of each stem against the truth (when given), RMS level of
        foreground, background and residual (dBFS), residual relative to the original (dB).

        Computed once, block by block over the files (any length).
        """
        return self._scored()[0].copy()

    def pairwise(self) -> pd.DataFrame:
        """Foreground SDR (dB) of each run (columns) against each other run (rows) as the
        reference: how far two separations agree, when no truth is known."""
        return self._scored()[1].copy()

    def features(self) -> pd.DataFrame:
        """Named measures of every run's stems, a row per run (:func:`analysis.to_dataframe`)."""
        return to_dataframe(self.runs)

    # -- pictures ---------------------------------------------------------------------------
    def figure(self, *, start: float = 0.0, seconds: float | None = None) -> Figure:
        """The original, then each run's foreground and background, on one time axis and
        one colour scale, over ``[start, start + seconds)`` (default: all of the clip)."""
        return _display.figures(self.runs, _display.Window(start, seconds))[0][2]

    def difference(
        self,
        a: str | None = None,
        b: str | None = None,
        *,
        start: float = 0.0,
        seconds: float | None = None,
    ) -> Figure:
        """Spectrogram of run *a*'s foreground minus run *b*'s (default: the first two)."""
        from ..viz import plot_difference

        if len(self.runs) < 2 and (a is None or b is None):
            raise InputError("a difference needs two runs")
        a = a or self.labels[0]
        b = b or next(label for label in self.labels if label != a)
        named, sr = _display.lanes([self[a], self[b]], _display.Window(start, seconds))
        fg = dict(named)
        return plot_difference(
            fg[f"{a} foreground"],
            fg[f"{b} foreground"],
            sr,
            labels=(a, b),
            title=f"Foreground: {a} − {b} (red: louder in {a})",
        )

    def _title(self) -> str:
        truth = "; SDR against the true stems" if self.truth is not None else ""
        return f"{self.original.name} — {len(self.runs)} separations compared{truth}"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        metrics, pairwise = self._scored()
        return _display.mimebundle(
            self._title(),
            self.runs,
            metrics,
            pairwise,
            window=_display.Window(0.0, _display.DISPLAY_SECONDS),
        )

    def write_report(
        self,
        path: str | os.PathLike[str],
        title: str | None = None,
        *,
        seconds: float | None = _display.REPORT_SECONDS,
        features: bool = False,
        max_audio_bytes: int = REPORT_MAX_AUDIO_BYTES,
    ) -> Path:
        """Write one self-contained HTML page comparing the runs and return its path.

        As :func:`camb_notebook.report.write_report` for one result: scores, figures and
        Opus players are embedded; nothing is fetched from elsewhere.

        Parameters
        ----------
        path : str or os.PathLike
            An ``.html`` file, or a folder (``<folder>/<clip>.report.html``).
        title : str, optional
        seconds : float or None
            How much of the clip the figures and players cover (from the start; None: all).
            The scores always cover the whole clip.
        features : bool
            Add the table of measures (:meth:`features`; costs a pass over every stem).
        max_audio_bytes : int
            Bound of the embedded previews.

        Returns
        -------
        pathlib.Path
        """
        metrics, pairwise = self._scored()
        table = None
        if features:
            table = self.features().set_index("run").select_dtypes("number")
        return _display.write(
            str(path),
            f"{self.original.stem}.comparison",
            title or self._title(),
            self.runs,
            metrics,
            pairwise,
            window=_display.Window(0.0, seconds),
            max_audio_bytes=max_audio_bytes,
            bitrates=REPORT_BITRATES,
            features=table,
        )


def compare(
    path: str | os.PathLike[str],
    methods: Sequence[str] = (),
    clients: Sequence[Client] = (),
    truth: Truth | None = None,
    *,
    labels: Sequence[str] | None = None,
    **options: Unpack[SeparateKwargs],
) -> Comparison:
    """Separate one clip several ways and compare the results.

    Each local-engine method in *methods* and each service in *clients* separates the clip
    (one after another; finished runs are reused from the task store as usual). The runs
    are aligned to the original (rate, channels, codec delay, length) and scored.

    Parameters
    ----------
    path : str or Path
        The clip.
    methods : sequence of str
        Methods of the embedded local engine, e.g. ``["spleeter", "repet"]``.
    clients : sequence of Client
        Other services, e.g. ``[camb_notebook.connect(api_key=...)]`` for CAMB.AI's cloud.
    truth : optional
        The true stems, for SDR against them: ``(foreground_path, background_path)``, a
        mapping with those keys, or :class:`~camb_notebook.audio.Stems`.
    labels : sequence of str, optional
        Names of the runs (methods first, then clients); default their method or service.
    **options :
        Those of :meth:`camb_notebook.api.Client.separate` (``reuse``, ``timeout``,
        ``on_progress`` …) for every run; with ``out_dir`` each run writes to its own
        sub-folder (``out_dir/<label>``).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from camb_notebook import compare
    >>> c = compare("song.wav", methods=["spleeter", "repet"],  # doctest: +SKIP
    ...             truth=("voice.wav", "band.wav"))
    >>> c.metrics()[["sdr_foreground_db", "sdr_background_db"]]  # doctest: +SKIP
    """
    if not Path(path).is_file():
        raise InputError(f"{path}: no such file to compare separations of", path=str(path))
    plans = plan_runs(methods, clients, labels=labels)
    truth_stems = as_truth(truth, path)  # a wrong truth fails before anything runs
    out_dir = options.pop("out_dir", None)
    runs = []
    for plan in plans:
        run_options = dict(options)
        if out_dir is not None:
            run_options["out_dir"] = run_out_dir(out_dir, plan.label)
        runs.append(plan.separate(path, **run_options))  # type: ignore[arg-type]
    return Comparison(runs, truth=truth_stems)
