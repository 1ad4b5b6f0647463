"""Runs: one clip separated one way (a service and a method), and the plan of how to get one.

The widget and :func:`~camb_notebook.comparison.compare` share these: a front end makes the
plans with :func:`plan_runs`, calls :meth:`RunPlan.separate` for each (on its own thread, with
its own progress callbacks and cancel event) and hands the :class:`Run` objects to a
:class:`~camb_notebook.comparison.Comparison`.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from typing_extensions import Unpack

from .._connect import connect
from .._exceptions import InputError
from ..api import Client, SeparateKwargs, SeparationResult

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..audio import Stems

__all__ = ["Run", "RunPlan", "plan_runs", "run_out_dir", "service_label"]


def service_label(client: Client) -> str:
    """What a person calls the service behind *client* (never a key or URL credentials).

    Examples
    --------
    >>> service_label(Client(api_key="k-1234", base_url="http://lab.example:8750/apis"))
    'lab.example'
    """
    origin = client.origin
    if origin == "cloud":
        return "CAMB.AI cloud"
    if origin == "engine":
        return "local engine"
    return urlsplit(client.base_url).hostname or "service"


@dataclass(frozen=True)
class RunPlan:
    """One way to separate a clip: a service (a client, or the embedded engine) and a method.

    Attributes
    ----------
    label : str
        The run's name in tables, figures and the widget (unique within a comparison).
    client : Client or None
        The service; None is the embedded local engine (started on first use).
    method : str or None
        The engine's separation method (``"spleeter"``, ``"repet"`` …); None for the
        service's own.

    Examples
    --------
    >>> RunPlan("repet", method="repet")
    RunPlan(label='repet', method='repet', service='local engine')
    """

    label: str
    client: Client | None = field(default=None, repr=False)
    method: str | None = None

    def __repr__(self) -> str:
        service = "local engine" if self.client is None else service_label(self.client)
        return f"RunPlan(label={self.label!r}, method={self.method!r}, service={service!r})"

    def separate(self, path: str | os.PathLike[str], **options: Unpack[SeparateKwargs]) -> Run:
        """Separate *path* this way (blocking) and return the :class:`Run`.

        Parameters
        ----------
        path : str or Path
        **options :
            Those of :meth:`camb_notebook.api.Client.separate` (``reuse``, ``out_dir``,
            ``on_progress``, ``cancel`` …); ``method`` comes from the plan.

        Examples
        --------
        >>> run = RunPlan("repet", method="repet").separate("song.wav")  # doctest: +SKIP
        """
        if "method" in options:
            raise InputError(
                f"the run {self.label!r} has its method ({self.method!r}); leave method= out",
                parameter="method",
            )
        if self.method is not None:
            options["method"] = self.method
        if self.client is None:
            with connect(backend="local") as client:
                result = client.separate(path, **options)
        else:
            result = self.client.separate(path, **options)
        return Run(self.label, result, service=self.service)

    @property
    def service(self) -> str:
        """The service in words (:func:`service_label`)."""
        return "local engine" if self.client is None else service_label(self.client)


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-") or "run"


def plan_runs(
    methods: Sequence[str] = (),
    clients: Sequence[Client] = (),
    *,
    labels: Sequence[str] | None = None,
) -> list[RunPlan]:
    """The runs a comparison asks for: each local-engine method, then each service.

    Parameters
    ----------
    methods : sequence of str
        Methods of the embedded local engine (``camb_notebook.methods.available_methods()``).
    clients : sequence of Client
        Services, e.g. ``camb_notebook.connect(api_key=...)`` for CAMB.AI's cloud.
    labels : sequence of str, optional
        A name per run, in that order; default the method's name, else the service's
        (:func:`service_label`), numbered when two would be alike.

    Returns
    -------
    list of RunPlan

    Raises
    ------
    InputError
        No runs, a method given twice, labels that do not match the runs or repeat.

    Examples
    --------
    >>> [p.label for p in plan_runs(["spleeter", "repet"])]
    ['spleeter', 'repet']
    """
    if isinstance(methods, str) or isinstance(clients, Client):
        raise InputError("methods= and clients= take lists: methods=['repet'], clients=[client]")
    methods = [str(m).strip().lower() for m in methods]
    if len(set(methods)) != len(methods):
        raise InputError(f"methods={methods} names a method twice", parameter="methods")
    for client in clients:
        if not isinstance(client, Client):
            raise InputError(
                f"clients= takes camb_notebook.api.Client objects (camb_notebook.connect(...)), "
                f"got {type(client).__name__}",
                parameter="clients",
            )
    plans = [RunPlan(m, None, m) for m in methods]
    plans += [RunPlan(service_label(c), c, None) for c in clients]
    if not plans:
        raise InputError(
            "nothing to compare: pass methods=['spleeter', 'repet'] and/or clients=[...]"
        )
    if labels is not None:
        labels = [str(label) for label in labels]
        if len(labels) != len(plans) or len(set(labels)) != len(labels):
            raise InputError(
                f"labels={labels} must name each of the {len(plans)} runs once", parameter="labels"
            )
        return [RunPlan(label, p.client, p.method) for label, p in zip(labels, plans, strict=True)]
    counts = Counter(p.label for p in plans)
    seen: Counter[str] = Counter()
    out = []
    for p in plans:
        seen[p.label] += 1
        label = p.label if counts[p.label] == 1 else f"{p.label} {seen[p.label]}"
        out.append(RunPlan(label, p.client, p.method))
    return out


@dataclass
class Run:
    """One separation of the clip: its label, the service it ran on, and the result.

    Reads like the result (``original``, ``foreground``, ``background``, ``method``,
    ``elapsed``, ``stems()``, ``features()``), so tables and figures take runs and results
    alike.

    Examples
    --------
    >>> from camb_notebook.api import SeparationResult
    >>> r = SeparationResult(Path("a.wav"), Path("fg.flac"), Path("bg.flac"), method="repet")
    >>> Run("repet", r, service="local engine").foreground.name
    'fg.flac'
    """

    label: str
    result: SeparationResult
    service: str = ""

    @property
    def original(self) -> Path:
        return self.result.original

    @property
    def foreground(self) -> Path:
        return self.result.foreground

    @property
    def background(self) -> Path:
        return self.result.background

    @property
    def method(self) -> str | None:
        return self.result.method

    @property
    def elapsed(self) -> float:
        return self.result.elapsed

    @property
    def task_id(self) -> str | None:
        return self.result.task_id

    def stems(self) -> Stems:
        """The result's stems aligned to the original (file-backed, see ``Stems``)."""
        return self.result.stems()

    def features(self) -> pd.DataFrame:
        """The result's named measures per stem (:meth:`SeparationResult.features`)."""
        return self.result.features()


def run_out_dir(root: str | os.PathLike[str], label: str) -> Path:
    """``root/<label as a file name>``: each run of a comparison writes its own stems.

    Examples
    --------
    >>> run_out_dir("out", "CAMB.AI cloud").as_posix()
    'out/CAMB.AI-cloud'
    """
    return Path(root) / _slug(label)
