"""Several runs of one file in one card: check what ``add_file(methods=, clients=)`` asks for,
and give each run its own pipeline.

The runs are planned as :func:`camb_notebook.comparison.plan_runs` plans them (the same labels,
the same checks), so a card's runs and a :class:`~camb_notebook.comparison.Comparison` of them
name them alike. Every run is aligned to the same original file by the result's ``stems()``
(rate, channels, codec delay, length, as the comparison does), so one position in seconds
means the same instant in every run: that is what lets the player switch runs in place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .._connect import LOCAL_ENGINE, ServiceChoice, choose_service
from .._exceptions import InputError
from ..comparison import RunPlan, plan_runs
from ._pipeline import ClientPipeline

__all__ = ["RunPipelines", "check_methods", "plan_card_runs"]


def check_methods(methods: Sequence[str]) -> list[str]:
    """The method names, normalised; an unknown or unusable one raises :class:`InputError`.

    Examples
    --------
    >>> check_methods(["Repet"])
    ['repet']
    >>> try:
    ...     check_methods(["demucs"])
    ... except InputError as error:
    ...     print(error.value)
    demucs
    """
    from ..methods import METHOD_NAMES, _why_unavailable, available_methods

    if isinstance(methods, str):
        raise InputError(
            f"methods={methods!r} must be a list: methods=[{methods!r}]",
            parameter="methods",
            value=methods,
        )
    names = [str(m).strip().lower() for m in methods]
    available = available_methods()
    for given, name in zip(methods, names, strict=True):
        if name not in METHOD_NAMES:
            raise InputError(
                f"methods={list(methods)!r}: unknown separation method {given!r}; "
                f"available here: {', '.join(available)} "
                f"(camb_notebook.methods.available_methods())",
                parameter="methods",
                value=given,
            )
        if name not in available:
            raise InputError(
                f"methods={list(methods)!r}: {name!r} cannot run here: {_why_unavailable(name)}; "
                f"available here: {', '.join(available)}",
                parameter="methods",
                value=given,
            )
    return names


def plan_card_runs(methods: Sequence[str] | None, clients: Sequence[Any] | None) -> list[RunPlan]:
    """The runs of one card (see :func:`camb_notebook.comparison.plan_runs`), checked.

    Examples
    --------
    >>> [p.label for p in plan_card_runs(["spleeter", "repet"], None)]
    ['spleeter', 'repet']
    """
    names = check_methods(methods or [])
    return plan_runs(names, list(clients or ()))


class RunPipelines:
    """One pipeline per run (method or service), made on first use and closed with the widget.

    Methods run on the local engine: the widget's own client when the widget uses the engine,
    else an engine client of their own. A service passed as a client stays the caller's
    (never closed here, its key never leaves it).

    Parameters
    ----------
    service : ServiceChoice or None
        The widget's service.
    shared : ClientPipeline or None
        The widget's pipeline (its client is shared by method runs on the engine).
    submit_kw : dict
        ``project_name``, ``folder_id`` for every submission.
    timeout : float, optional
    polling : dict
        Client options for the engine (how often it is polled).
    """

    def __init__(
        self,
        service: ServiceChoice | None,
        shared: Any,
        submit_kw: dict[str, Any],
        *,
        timeout: float | None,
        polling: dict[str, float],
    ) -> None:
        self._service, self._shared = service, shared
        self._submit_kw = {k: v for k, v in submit_kw.items() if k != "method"}
        self._timeout, self._polling = timeout, polling
        self._lock = threading.Lock()
        self._engine: ClientPipeline | None = None
        self._made: dict[tuple[str, int], ClientPipeline] = {}

    def _engine_client(self) -> Callable[[], Any]:
        """The engine's client factory: the widget's when it uses the engine."""
        shared = self._shared
        if (
            self._service is not None
            and self._service.origin == "engine"
            and isinstance(shared, ClientPipeline)
        ):
            return lambda: shared.client
        with self._lock:
            if self._engine is None:
                engine = choose_service(backend="local")
                polling = self._polling
                self._engine = ClientPipeline(lambda: engine.connect(**polling))
        own = self._engine
        return lambda: own.client

    def for_plan(self, plan: RunPlan) -> tuple[ClientPipeline, str | None]:
        """The pipeline of *plan* and the name of its service in the task store."""
        key = ("method", 0) if plan.client is None else ("client", id(plan.client))
        key = (f"{key[0]}:{plan.method or ''}", key[1])
        with self._lock:
            made = self._made.get(key)
        if made is None:
            if plan.client is None:
                made = ClientPipeline(
                    self._engine_client(),
                    {**self._submit_kw, "method": plan.method},
                    timeout=self._timeout,
                    can_stop_tasks=True,
                    owns_client=False,
                )
            else:
                client = plan.client
                made = ClientPipeline(
                    lambda: client,
                    dict(self._submit_kw),
                    timeout=self._timeout,
                    can_stop_tasks=client.origin != "cloud",
                    owns_client=False,
                )
            with self._lock:
                made = self._made.setdefault(key, made)
        return made, _plan_store_key(plan)

    def close(self) -> None:
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()


def _plan_store_key(plan: RunPlan) -> str | None:
    """The run's service in the task store (no credentials: see the widget's ``_store_key``)."""
    if plan.client is None:
        return LOCAL_ENGINE
    # The client's own core knows the key its submissions are recorded under.
    key = getattr(getattr(plan.client, "_core", None), "store_key", None)
    if not key:
        return None
    parts = urlsplit(str(key))
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
