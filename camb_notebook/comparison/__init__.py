"""Compare separations of one clip: local-engine methods and services side by side.

:func:`compare` separates a clip several ways and returns a :class:`Comparison` (scores,
figures on one time axis and colour scale, a difference spectrogram, an HTML report).
Front ends that run the separations themselves (the widget) build the same objects:
:func:`plan_runs` → :meth:`RunPlan.separate` per run → ``Comparison(runs, truth=...)``.

Examples
--------
>>> from camb_notebook.comparison import plan_runs
>>> [plan.label for plan in plan_runs(methods=["spleeter", "repet"])]
['spleeter', 'repet']
"""

from ._comparison import Comparison, compare
from ._metrics import Truth, as_truth, score_runs
from ._runs import Run, RunPlan, plan_runs, run_out_dir, service_label

__all__ = [
    "Comparison",
    "Run",
    "RunPlan",
    "Truth",
    "as_truth",
    "compare",
    "plan_runs",
    "run_out_dir",
    "score_runs",
    "service_label",
]
