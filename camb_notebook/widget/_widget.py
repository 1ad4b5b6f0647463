"""SeparationWidget: upload clips, watch them separate, compare the stems by ear and by eye."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anywidget
import traitlets

from .._config import cache_dir
from .._connect import LOCAL_ENGINE, Backend, ServiceChoice, choose_service
from .._exceptions import InputError, WaitTimeoutError, register_secret
from ..audio import ACCEPT, mime_type
from ..comparison import Comparison, Run, RunPlan
from ._pipeline import ClientPipeline
from ._preview import MIME as _PREVIEW_MIME
from ._runner import Clip, Pipeline, Runner, own_stems
from ._runs import RunPipelines, plan_card_runs
from ._session import Session, cell_session_key
from ._states import LANES, vocabulary
from ._tiles import TileRequest, TileService
from ._uploads import CHUNK_BYTES, MAX_UPLOAD_BYTES, UploadReceiver

__all__ = ["SeparationWidget"]

log = logging.getLogger("camb_notebook.widget")

_HERE = Path(__file__).parent
#: The widget writing each session file in this kernel (the newest one for a cell).
_SESSIONS: weakref.WeakValueDictionary[str, SeparationWidget] = weakref.WeakValueDictionary()
_FILE_CHUNK = 4 << 20
#: Tiles one request may ask for (a view needs a handful per lane).
_MAX_TILES = 64  # kernel → browser download chunks (stems can be 100 MB WAVs)
#: Status polls for the local engine: often, so progress moves in small steps (loopback).
_ENGINE_POLLING = {"poll_interval": 0.25, "poll_max_interval": 0.5}


class SeparationWidget(anywidget.AnyWidget):
    """Separate clips into foreground and background, and explore the stems in the notebook.

    Drop files on the widget or pick them (several at once), or add files on the
    kernel's disk with :meth:`add_file`. Each clip gets a card that follows it
    through upload, validation, the service's queue and separation; when it is
    done the card shows original, foreground and background as lanes with
    waveform, spectrogram and player on one time axis, one transport, solo/mute,
    an A/B switch and download buttons. ``add_file(path, methods=[...], clients=[...])``
    separates a file several ways in one card, with a run switch; its A/B switch then
    compares runs at the same playback position (:meth:`comparison` scores them). Work
    happens on background threads, so other cells keep running.

    Parameters
    ----------
    backend : {"local", "cloud"} or None
        ``"local"`` always uses the embedded engine on loopback, ``"cloud"`` CAMB.AI.
        ``None`` (default) follows the client: a key (argument or ``CAMB_API_KEY``)
        or a base URL means that service, neither means the embedded engine.
    base_url : str, optional
        A service speaking CAMB.AI's API, e.g. a shared ``camb-notebook serve``.
    api_key : str, optional
        Given to the client only; never stored on the widget, sent to the browser or saved.
    project_name : str, optional
        Passed to every submission.
    folder_id : int, optional
        CAMB.AI folder for the tasks.
    method : str, optional
        Separation method of the local engine (e.g. ``"repet"``); ``None``: its best.
    max_workers : int
        Clips processed at the same time.
    timeout : float, optional
        Longest wait for one clip's task in seconds.
    pipeline : callable, optional
        ``pipeline(path, report) -> SeparationResult`` replacing the client (tests,
        custom services); the connection options are then unused.
    session : str or bool, optional
        Under which name the widget remembers its clips, so that running its cell again in a
        new kernel brings the finished ones back from the task store in seconds. ``None``
        (default): the notebook's path and the cell's id when the front end sends them
        (JupyterLab, Notebook 7); ``False``: remember nothing.

    Attributes
    ----------
    clips : list of dict
        Small state of every clip (synced with the browser; no audio, no key).

    Examples
    --------
    >>> from camb_notebook import SeparationWidget
    >>> w = SeparationWidget()              # doctest: +SKIP
    >>> w.add_file("song.mp3")              # doctest: +SKIP
    >>> w                                   # doctest: +SKIP
    >>> w.wait()[0].stems().levels()        # doctest: +SKIP
    """

    _esm = _HERE / "widget.js"
    _css = _HERE / "widget.css"

    clips = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: A small still picture of each finished clip (``data:`` PNG by clip id): what a saved
    #: notebook shows where no kernel runs. No audio.
    pictures = traitlets.Dict(traitlets.Unicode()).tag(sync=True)
    #: This widget's model id: the browser looks its model up to learn whether the kernel
    #: behind it is still there (a restarted kernel, a notebook reopened without one).
    model_ref = traitlets.Unicode("").tag(sync=True)
    backend_label = traitlets.Unicode("").tag(sync=True)
    accept = traitlets.Unicode(ACCEPT).tag(sync=True)
    vocabulary = traitlets.Dict(vocabulary()).tag(sync=True)
    chunk_size = traitlets.Int(CHUNK_BYTES).tag(sync=True)
    max_upload_bytes = traitlets.Int(MAX_UPLOAD_BYTES).tag(sync=True)
    #: What each clip's player shows, by clip id: ``{"start", "end", "selection", "by", "n"}``
    #: in seconds. The browser writes it after a zoom, pan or selection; :meth:`zoom` writes
    #: it from Python (``by="python"``, ``n`` counting), and the browser follows. A few
    #: numbers per clip: saved notebooks stay small.
    views = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        backend: Backend = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        project_name: str | None = None,
        folder_id: int | None = None,
        method: str | None = None,
        max_workers: int = 2,
        timeout: float | None = None,
        pipeline: Pipeline | None = None,
        session: str | bool | None = None,
        **kwargs: Any,
    ) -> None:
        if folder_id is not None and (
            isinstance(folder_id, bool) or not isinstance(folder_id, int)
        ):
            raise InputError(
                f"folder_id={folder_id!r} must be an integer",
                parameter="folder_id",
                value=folder_id,
            )
        if not isinstance(max_workers, int) or max_workers < 1:
            raise InputError(
                f"max_workers={max_workers!r} must be a positive integer",
                parameter="max_workers",
                value=max_workers,
            )
        register_secret(api_key)
        # Decided now (bad settings fail at once); the engine starts in the first worker.
        service = None if pipeline else choose_service(api_key, base_url, backend=backend)
        super().__init__(**kwargs)
        self.model_ref = self.model_id
        self.backend_label = "custom pipeline" if service is None else service.label
        self._service = service
        if pipeline is None:
            assert service is not None
            engine = service.origin == "engine"
            polling = _ENGINE_POLLING if engine else {}
            pipeline = ClientPipeline(
                lambda: service.connect(**polling),
                {"project_name": project_name, "folder_id": folder_id, "method": method},
                timeout=timeout,
                # The local engine (and `camb-notebook serve`) can stop a task; the cloud cannot.
                can_stop_tasks=service.origin != "cloud",
            )
        self._pipeline = pipeline
        #: Each run's pipeline for add_file(methods=, clients=) (none with a custom pipeline).
        self._run_pipelines = (
            None
            if service is None
            else RunPipelines(
                service,
                pipeline,
                {"project_name": project_name, "folder_id": folder_id},
                timeout=timeout,
                polling=_ENGINE_POLLING,
            )
        )
        self._lock = threading.RLock()
        self._clips: list[Clip] = []
        self._callbacks: list[Callable[[Any], Any]] = []
        # Finished uploads stay in the cache: results keep pointing at their original.
        self._uploads = UploadReceiver(cache_dir("uploads"), max_bytes=self.max_upload_bytes)
        self._upload_clip: dict[str, Clip] = {}
        self._runner = Runner(
            pipeline,
            self._on_clip_change,
            on_done=self._on_clip_done,
            max_workers=max_workers,
            lock=self._lock,
        )
        #: Bytes of custom-message buffers sent to the browser (previews, peaks, images, files).
        self.bytes_sent = 0
        #: Detail on demand: tiles render on the service's thread, never on the comm thread.
        self._tiles = TileService(self._post)
        self.on_msg(self._on_message)
        self._session = _open_session(session) if service is not None else None
        if self._session is not None:
            # The cell ran again in this kernel: the widget it made before stops writing.
            earlier = _SESSIONS.get(self._session.key)
            if earlier is not None and earlier is not self:
                earlier._session = None
            _SESSIONS[self._session.key] = self
            self._restore(self._session.load())

    # -- public API -------------------------------------------------------------------
    def add_file(
        self,
        path: str | os.PathLike[str],
        *,
        methods: Sequence[str] | None = None,
        clients: Sequence[Any] | None = None,
    ) -> str:
        """Add a clip from the kernel's disk and start separating it.

        With ``methods`` and/or ``clients`` the file is separated several ways and the runs
        share one card: a run switch names each (its method, or its service), and the A/B
        switch compares a lane of one run with a lane of another at the same playback
        position. Each run is one submission, remembered in the task store like any clip.

        Parameters
        ----------
        path : path-like
            An audio file (FLAC, MP3, WAV, AAC/M4A, OGG).
        methods : list of str, optional
            Methods of the local engine, e.g. ``["spleeter", "repet"]``
            (``camb_notebook.methods.available_methods()``).
        clients : list of Client, optional
            Services to run it on as well, e.g. ``[camb_notebook.connect(api_key=...)]``;
            their keys stay in the clients.

        Returns
        -------
        str
            The clip's id (see :attr:`clips`); for several runs, the card's id (each run's
            clip has it as ``"group"``).

        Raises
        ------
        InputError
            No such file; an unknown method (the message lists the available ones); a method
            named twice; ``methods``/``clients`` with a custom ``pipeline``.

        Examples
        --------
        >>> w.add_file("song.mp3")  # doctest: +SKIP
        'c1a2b3'
        >>> w.add_file("song.mp3", methods=["spleeter", "repet"])  # doctest: +SKIP
        '9f8e7d'
        """
        p = Path(path).expanduser()
        plans = None
        if methods is not None or clients is not None:
            if self._run_pipelines is None:
                raise InputError(
                    "methods= and clients= need a service; this widget runs a custom "
                    "pipeline: create SeparationWidget() without pipeline= to use them",
                    parameter="methods",
                    value=methods,
                )
            plans = plan_card_runs(methods, clients)  # bad names fail before anything runs
        if not p.is_file():
            raise InputError(f"{p}: no such file; pass the path of an audio file", path=p)
        if plans is None:
            clip = self._new_clip(p.name, p.stat().st_size, source="disk", path=p.resolve())
            self._runner.start(clip)
            return clip.id
        assert self._run_pipelines is not None
        group = uuid.uuid4().hex[:12] if len(plans) > 1 else ""
        clips = []
        for plan in plans:
            pipeline, store = self._run_pipelines.for_plan(plan)
            clip = self._new_clip(p.name, p.stat().st_size, source="disk", path=p.resolve())
            clip.group, clip.run = group, plan.label if group else ""
            clip.pipeline, clip.store = pipeline, store
            clip.facts["service"] = plan.service  # a host name at most: never a key
            clips.append(clip)
        for clip in clips:
            self._runner.start(clip)
        return group or clips[0].id

    def add_files(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        methods: Sequence[str] | None = None,
        clients: Sequence[Any] | None = None,
    ) -> list[str]:
        """:meth:`add_file` for several paths (each with the same runs); returns their ids."""
        paths = list(paths)
        if methods is not None or clients is not None:
            plan_card_runs(methods, clients)  # a bad name fails before the first file starts
        return [self.add_file(p, methods=methods, clients=clients) for p in paths]

    def comparison(self, key: str, truth: Any = None) -> Comparison:
        """The runs of a card of several as a :class:`~camb_notebook.comparison.Comparison`.

        Scores, figures on one time axis and colour scale, an HTML report: what
        :func:`camb_notebook.comparison.compare` gives, from the runs this widget made.

        Parameters
        ----------
        key : str
            The card's id, as ``add_file(path, methods=[...])`` returned it.
        truth : optional
            The true stems (see :class:`~camb_notebook.comparison.Comparison`).

        Raises
        ------
        InputError
            *key* is not a card of several runs, or some of its runs are not done.

        Examples
        --------
        >>> card = w.add_file("song.wav", methods=["spleeter", "repet"])  # doctest: +SKIP
        >>> w.wait(); w.comparison(card).metrics()  # doctest: +SKIP
        """
        runs = self._runs_of(key)
        if not runs:
            raise InputError(
                f"{key!r} is not a card of several runs: pass the id that "
                "add_file(path, methods=[...]) returned",
                parameter="key",
                value=key,
            )
        waiting = [f"{c.run} ({c.state})" for c in runs if c.state != "done"]
        if waiting:
            raise InputError(
                f"{runs[0].name}: runs {', '.join(waiting)} are not done: wait for them "
                "(w.wait()), or retry the failed ones (w.retry(key))",
                parameter="key",
                value=key,
            )
        return Comparison(
            [Run(c.run, c.result, service=str(c.facts.get("service") or "")) for c in runs],
            truth=truth,
        )

    @property
    def results(self) -> list[Any]:
        """Results of the finished clips, in the order they were added.

        Each is a :class:`camb_notebook.api.SeparationResult` (files, ``.stems()`` arrays).
        """
        with self._lock:
            return [c.result for c in self._clips if c.state == "done"]

    @property
    def errors(self) -> dict[str, BaseException]:
        """Exceptions of the failed clips, by clip name (tracebacks are in ``__traceback__``)."""
        with self._lock:
            return {c.name: c.error for c in self._clips if c.error is not None}

    def clip(self, key: str) -> dict[str, Any]:
        """The state of one clip, by id or file name."""
        return self._find(key).to_state()

    def cancel(self, key: str) -> bool:
        """Cancel a clip by id or file name; False when it had already finished.

        A card of several runs (the id :meth:`add_file` returned for them) cancels every run
        still going.
        """
        runs = self._runs_of(key)
        if runs:
            return any([self._runner.cancel(clip) for clip in runs])
        return self._runner.cancel(self._find(key))

    def retry(self, key: str) -> None:
        """Run a failed or cancelled clip again (by id or file name).

        A card of several runs (its id) runs again those of its runs that failed or were
        cancelled.
        """
        runs = self._runs_of(key)
        if runs:
            for clip in runs:
                if clip.finished and clip.state != "done":
                    self.retry(clip.id)
            return
        clip = self._find(key)
        if clip.path is None:
            raise InputError(f"{clip.name}: its upload did not finish; add the file again")
        if not clip.finished:
            raise InputError(f"{clip.name} is still {clip.state}; cancel it first to retry")
        self._runner.start(clip)

    def on_complete(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Call ``callback(result)`` whenever a clip finishes (from a worker thread).

        Returns the callback, so this works as a decorator.

        Examples
        --------
        >>> @w.on_complete                  # doctest: +SKIP
        ... def show(result):
        ...     print(result.foreground)
        """
        self._callbacks.append(callback)
        return callback

    def zoom(self, start: float, end: float, clip: str | None = None) -> None:
        """Show the span ``[start, end]`` (seconds) of a finished clip in the browser.

        Every lane follows, and the browser asks the kernel for detail at the new zoom.
        The browser keeps the span within the clip and above its deepest zoom; what it
        shows is what :meth:`view` returns afterwards.

        Parameters
        ----------
        start, end : float
            Seconds, ``0 <= start < end <= duration``.
        clip : str, optional
            Clip id or file name; ``None`` is the latest finished clip.

        Examples
        --------
        >>> w.zoom(12.0, 14.5)              # doctest: +SKIP
        >>> w.view()                        # doctest: +SKIP
        (12.0, 14.5)
        """
        found = self._finished(clip)
        duration = float(found.facts.get("duration") or 0.0)
        try:
            a, b = float(start), float(end)
        except (TypeError, ValueError):
            raise InputError(
                f"start={start!r}, end={end!r} must be numbers of seconds", value=(start, end)
            ) from None
        if not (0.0 <= a < b <= duration + 1e-6):
            raise InputError(
                f"start={start!r}, end={end!r} is not a span of {found.name} "
                f"(0 <= start < end <= {duration:g} s); pass a span inside the clip",
                parameter="start",
                value=(start, end),
            )
        with self._lock:
            views = dict(self.views)
            old = dict(views.get(found.id) or {})
            views[found.id] = {
                "start": a,
                "end": min(b, duration),
                "selection": old.get("selection"),
                "by": "python",
                "n": int(old.get("n") or 0) + 1,
            }
            self.views = views

    def view(self, clip: str | None = None) -> tuple[float, float]:
        """The span ``(start, end)`` in seconds the browser shows of a finished clip.

        After a zoom with the wheel, a pan or :meth:`zoom`, this is the window on the
        screen (the browser reports it as it changes); the whole clip before any zoom.

        Examples
        --------
        >>> w.view()                        # doctest: +SKIP
        (0.0, 12.0)
        """
        found = self._finished(clip)
        shown = self.views.get(found.id) or {}
        if "start" in shown and "end" in shown:
            return float(shown["start"]), float(shown["end"])
        return 0.0, float(found.facts.get("duration") or 0.0)

    def selection(self, clip: str | None = None) -> tuple[float, float] | None:
        """The span ``(start, end)`` selected in the browser (Shift + drag), or ``None``.

        Examples
        --------
        >>> w.selection()                   # doctest: +SKIP
        (3.2, 4.0)
        """
        found = self._finished(clip)
        span = (self.views.get(found.id) or {}).get("selection")
        if not span:
            return None
        return float(span[0]), float(span[1])

    def wait(self, timeout: float | None = None) -> list[Any]:
        """Block until every clip that is not uploading has finished; return :attr:`results`.

        Clips still arriving from the browser are not waited for: their chunks can
        only be received while no cell runs. Failed clips do not raise; see
        :attr:`errors`.

        Raises
        ------
        WaitTimeoutError
            ``timeout`` seconds passed first; the clips keep running.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [c for c in self._clips if not c.finished and c.state != "uploading"]
            if not pending:
                return self.results
            for clip in pending:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not clip.done_event.wait(left):
                    names = ", ".join(c.name for c in pending if not c.finished)
                    raise WaitTimeoutError(
                        f"timeout={timeout} s passed while {names} still ran; they keep "
                        "running: call wait() again or give a longer timeout",
                        timeout=timeout,
                    )

    async def done(self, timeout: float | None = None) -> list[Any]:
        """Awaitable :meth:`wait`: ``results = await w.done()``."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.wait, timeout)

    def close(self) -> None:
        """Stop the workers, drop unfinished uploads and close the widget.

        Finished uploads stay in the cache folder (``cache_dir("uploads")``), so
        :attr:`results` keep their original files.
        """
        # Also reached from Widget.__del__, possibly on a half-constructed widget.
        for part in ("_tiles", "_runner", "_uploads", "_pipeline", "_run_pipelines"):
            close = getattr(getattr(self, part, None), "close", None)
            if callable(close):
                close()
        super().close()

    # -- clip bookkeeping ----------------------------------------------------------------
    def _new_clip(self, name: str, size: int, *, source: str, path: Path | None = None) -> Clip:
        clip = Clip(id=uuid.uuid4().hex[:12], name=name, size=size, source=source, path=path)
        with self._lock:
            self._clips.append(clip)
        return clip

    def _runs_of(self, key: str) -> list[Clip]:
        """The runs of the card whose id is *key* (none when it is a clip's id or name)."""
        with self._lock:
            return [c for c in self._clips if c.group and c.group == key]

    def _find(self, key: str) -> Clip:
        with self._lock:
            for clip in self._clips:
                if key in (clip.id, clip.name):
                    return clip
            names = ", ".join(c.name for c in self._clips) or "none yet"
        raise InputError(f"no clip {key!r}; clips: {names}", parameter="key", value=key)

    def _finished(self, key: str | None) -> Clip:
        """A finished clip by id or name; ``None``: the latest finished one."""
        if key is not None:
            clip = self._find(key)
            if clip.state != "done":
                raise InputError(
                    f"{clip.name} is {clip.state}, not done: its player shows once it is",
                    parameter="clip",
                    value=key,
                )
            return clip
        with self._lock:
            done = [c for c in self._clips if c.state == "done"]
        if not done:
            raise InputError(
                "no finished clip yet: add one (w.add_file) and wait for it (w.wait())",
                parameter="clip",
                value=None,
            )
        return done[-1]

    def _on_clip_change(self, clip: Clip) -> None:
        with self._lock:
            self.clips = [c.to_state() for c in self._clips]
            pictures = {c.id: c.picture for c in self._clips if c.state == "done" and c.picture}
            if pictures != self.pictures:
                self.pictures = pictures
            if self._session is not None:
                self._session.save([self._remembered(c) for c in self._clips if _worth_keeping(c)])

    def _remembered(self, clip: Clip) -> dict[str, Any]:
        """What the session file keeps of a clip (see :mod:`._session`)."""
        return {
            "id": clip.id,
            "name": clip.name,
            "size": clip.size,
            "source": clip.source,
            "path": str(clip.path) if clip.path else None,
            "state": clip.state,
            "task_id": getattr(clip.result, "task_id", None) or clip.facts.get("task_id"),
            "service": clip.store if clip.pipeline is not None else _store_key(self._service),
            "method": clip.facts.get("method"),
            "group": clip.group or None,
            "run": clip.run or None,
            # How to make the run's pipeline again: a method of the engine, or a service
            # passed as a client (which a new kernel does not have).
            "run_method": getattr(clip.pipeline, "submit_kw", {}).get("method")
            if clip.pipeline is not None
            else None,
            "run_client": (
                clip.pipeline is not None
                and not getattr(clip.pipeline, "submit_kw", {}).get("method")
            )
            or None,
        }

    def _restore(self, records: list[dict[str, Any]]) -> None:
        """Bring back the clips of an earlier kernel: finished ones from the task store.

        Nothing is sent to a service here: a clip whose stems are gone, or that was still
        running, comes back as a card whose Retry the user may press.
        """
        from ..api import SeparationResult, TaskStore

        store = TaskStore()
        for record in records:
            path = Path(record["path"]) if record.get("path") else None
            clip = self._new_clip(
                str(record.get("name") or "clip"),
                int(record.get("size") or 0),
                source=str(record.get("source") or "disk"),
                path=path if path is not None and path.is_file() else None,
            )
            clip.group, clip.run = str(record.get("group") or ""), str(record.get("run") or "")
            run_method = record.get("run_method")
            if run_method and self._run_pipelines is not None:
                clip.pipeline, clip.store = self._run_pipelines.for_plan(
                    RunPlan(str(run_method), None, str(run_method))
                )
            # A run on a service passed as a client: this kernel has no such client, and
            # the widget's own service must not run it in its place.
            lost_client = bool(record.get("run_client"))
            if lost_client:
                clip.pipeline = _client_gone
            if clip.pipeline is not None:
                clip.store = record.get("service")
            task_id, service = record.get("task_id"), record.get("service")
            found = store.get(service, task_id) if task_id and service else None
            if record.get("state") == "done" and found is not None and found.finished:
                assert found.foreground is not None and found.background is not None
                original = found.original if found.original and found.original.is_file() else path
                result = SeparationResult(
                    original or found.foreground,
                    found.foreground,
                    found.background,
                    task_id=found.task_id,
                    run_id=found.run_id,
                    base_url=found.base_url,
                    method=found.method,
                    reused=True,
                )
                self._runner.start(clip, result=result)
                continue
            why = (
                "its stems are no longer in the task store (the cache was cleared)"
                if record.get("state") == "done"
                else "it had not finished when the cell ran again"
            )
            self._runner.set_state(
                clip,
                "cancelled",
                None,
                message=f"{clip.name}: {why}.",
                hint="Retry runs it again; a task the service still has is picked up, "
                "not sent twice."
                if clip.path is not None and not lost_client
                else "Add the file again with add_file(..., clients=[...])."
                if lost_client
                else "Its file is gone too: add the file again.",
                action="retry"
                if clip.path is not None and not lost_client
                else ""
                if lost_client
                else "choose-file",
            )
            clip.done_event.set()

    def _on_clip_done(self, clip: Clip) -> None:
        for callback in list(self._callbacks):
            try:
                callback(clip.result)
            except Exception as error:
                log.exception("on_complete callback %r failed for %s", callback, clip.name)
                with self._lock:
                    clip.message = f"on_complete callback failed: {type(error).__name__}: {error}"
                self._on_clip_change(clip)

    # -- messages from the browser ---------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        handler = getattr(self, f"_msg_{str(kind).replace('-', '_')}", None)
        if handler is None:
            log.debug("unknown widget message %r", kind)
            return
        try:
            handler(content, buffers)
        except Exception:
            log.exception("widget message %r failed", kind)

    def _post(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        self.bytes_sent += sum(len(b) for b in buffers or ())
        self.send(content, buffers or None)

    def _msg_upload_start(self, msg: dict[str, Any], _buffers: list[Any]) -> None:
        upload_id, name, size = str(msg["upload_id"]), str(msg["name"]), msg["size"]
        clip = self._new_clip(name, int(size), source="browser")
        with self._lock:
            self._upload_clip[upload_id] = clip
        try:
            self._uploads.start(upload_id, name, size)
        except InputError as error:
            self._runner.fail(clip, error)
            self._post({"type": "upload-error", "upload_id": upload_id, "message": str(error)})
            return
        self._runner.set_state(clip, "uploading", 0.0)
        self._post({"type": "upload-ack", "upload_id": upload_id, "received": 0})

    def _msg_upload_chunk(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        upload_id = str(msg["upload_id"])
        clip = self._upload_clip.get(upload_id)
        if clip is None or clip.state != "uploading":
            self._post({"type": "upload-error", "upload_id": upload_id, "message": "cancelled"})
            self._uploads.abort(upload_id)
            return
        try:
            if not buffers:
                raise InputError(f"{clip.name}: a chunk arrived without data; add the file again")
            received = self._uploads.chunk(upload_id, int(msg["offset"]), buffers[0])
        except InputError as error:
            self._uploads.abort(upload_id)
            self._runner.fail(clip, error)
            self._post({"type": "upload-error", "upload_id": upload_id, "message": str(error)})
            return
        fraction = received / clip.size if clip.size else 1.0
        if clip.progress is None or int(fraction * 100) != int(clip.progress * 100):
            self._runner.set_state(clip, "uploading", fraction)
        self._post({"type": "upload-ack", "upload_id": upload_id, "received": received})

    def _msg_upload_end(self, msg: dict[str, Any], _buffers: list[Any]) -> None:
        upload_id = str(msg["upload_id"])
        clip = self._upload_clip.pop(upload_id, None)
        if clip is None or clip.state != "uploading":
            self._uploads.abort(upload_id)
            return
        try:
            clip.path = self._uploads.finish(upload_id)
        except InputError as error:
            self._runner.fail(clip, error)
            return
        self._runner.start(clip)

    def _msg_upload_abort(self, msg: dict[str, Any], _buffers: list[Any]) -> None:
        upload_id = str(msg["upload_id"])
        self._uploads.abort(upload_id)
        clip = self._upload_clip.pop(upload_id, None)
        if clip is not None and not clip.finished:
            reason = str(msg.get("reason") or "the browser stopped sending it")
            self._runner.fail(clip, InputError(f"{clip.name}: upload aborted: {reason}"))

    def _msg_cancel(self, msg: dict[str, Any], _buffers: list[Any]) -> None:
        clip = self._find(str(msg["clip_id"]))
        if clip.state == "uploading":
            for upload_id, c in list(self._upload_clip.items()):
                if c is clip:
                    self._uploads.abort(upload_id)
                    del self._upload_clip[upload_id]
        self._runner.cancel(clip)

    def _msg_retry(self, msg: dict[str, Any], _buffers: list[Any]) -> None:
        clip = self._find(str(msg["clip_id"]))
        if clip.path is not None and clip.finished:
            self._runner.start(clip)

    def _msg_remove(self, msg: dict[str, Any], _buffers: list[Any]) -> None:
        key = str(msg["clip_id"])
        # A card of several runs goes as a whole (its id is their group's).
        gone = self._runs_of(key)
        if not gone:
            gone = [self._find(key)]
        for clip in gone:
            self._runner.cancel(clip)
            self._tiles.forget(clip.id)
        with self._lock:
            self._clips = [c for c in self._clips if all(c is not g for g in gone)]
        self._on_clip_change(gone[0])

    def _msg_media(self, msg: dict[str, Any], _buffers: list[Any]) -> None:
        """A view asks for what it has not got: lanes' pictures, the preview of all lanes."""
        clip = self._find(str(msg["clip_id"]))
        wanted = [str(x) for x in msg.get("lanes") or ()]
        # What is ready now; a lane made on request is announced by the clip's "lanes"
        # (the view then asks again), even when it was ready at once.
        ready = dict(clip.visuals)
        if "residual" in wanted and "residual" not in ready:
            self._runner.prepare_extra_lane(clip, "residual")
        for lane in wanted:
            visuals = ready.get(lane)
            if visuals is None:
                continue
            self._post(
                {
                    "type": "lane",
                    "clip_id": clip.id,
                    "attempt": clip.attempt,
                    "lane": lane,
                    "level_db": round(visuals.level_db, 1),
                    "silent": visuals.silent,
                    # The colour scale every lane and tile shares (the colour bar's ends).
                    "scale": [round(float(x), 1) for x in clip.scale] if clip.scale else None,
                },
                [visuals.peaks, visuals.spectrogram],
            )
        preview = clip.preview
        if msg.get("preview") and preview is not None:
            self._post(
                {
                    "type": "preview",
                    "clip_id": clip.id,
                    "attempt": clip.attempt,
                    "mime": _PREVIEW_MIME,
                    "lanes": list(preview.lanes),
                    "channels": preview.channels,
                    "bitrate": preview.bitrate,
                    "headroom": [round(g, 4) for g in preview.headroom],
                },
                [preview.audio],
            )

    def _msg_tiles(self, msg: dict[str, Any], _buffers: list[Any]) -> None:
        """A view zoomed in: queue the tiles it lacks (answered from the tile thread)."""
        clip = self._find(str(msg["clip_id"]))
        if clip.state != "done" or clip.result is None or clip.scale is None:
            return
        lanes = [str(x) for x in msg.get("lanes") or () if str(x) in LANES]
        wanted = [(int(t[0]), int(t[1])) for t in msg.get("tiles") or ()][:_MAX_TILES]
        if not lanes or not wanted:
            return
        result = clip.result
        self._tiles.request(
            TileRequest(
                view=str(msg.get("view_id") or ""),
                clip=clip.id,
                request_id=int(msg.get("request_id") or 0),
                tiles=wanted,
                lanes=lanes,
                stems=lambda: _tile_stems(result, clip.stems),
                scale=clip.scale,
                attempt=clip.attempt,
            )
        )

    def _msg_download(self, msg: dict[str, Any], _buffers: list[Any]) -> None:
        """Send one full-quality stem file in chunks; the browser saves it."""
        clip = self._find(str(msg["clip_id"]))
        lane, request_id = str(msg["lane"]), str(msg["request_id"])
        path = self._stem_file(clip, lane)
        total = path.stat().st_size
        mime = mime_type(path=path)
        name = f"{Path(clip.name).stem}_{lane}{path.suffix.lower()}"
        with path.open("rb") as f:
            offset = 0
            while True:
                data = f.read(_FILE_CHUNK)
                self._post(
                    {
                        "type": "file",
                        "request_id": request_id,
                        "name": name,
                        "mime": mime,
                        "offset": offset,
                        "total": total,
                        "last": offset + len(data) >= total,
                    },
                    [data],
                )
                offset += len(data)
                if offset >= total or not data:
                    break

    def _stem_file(self, clip: Clip, lane: str) -> Path:
        result = clip.result
        if result is None:
            raise InputError(f"{clip.name} has no result yet")
        if lane in ("original", "foreground", "background"):
            return Path(getattr(result, lane))
        if lane == "residual" and clip.stems is not None:
            from ..audio import open_writer

            target = Path(result.foreground).with_name(f"{Path(clip.name).stem}_residual.flac")
            if not target.exists():
                # This thread's own readers (see own_stems), in blocks.
                with (
                    own_stems(result) as stems,
                    open_writer(target, stems.sr, stems.channels, "flac") as out,
                ):
                    for window in stems.blocks(stems.sr * 10):
                        out.write(window.residual)
            return target
        raise InputError(f"lane={lane!r} is not original, foreground, background or residual")


def _client_gone(path: Path, _report: Any) -> Any:
    """The pipeline of a run whose service was a client of an earlier kernel."""
    raise InputError(
        f"{path.name}: this run was on a service passed as a client in an earlier kernel; "
        "add the file again with add_file(..., clients=[...])",
        parameter="clients",
    )


def _tile_stems(result: Any, stems: Any) -> Any:
    """Stems the tile thread reads windows of: its own file-backed copy when the files are
    there (only the windows asked for are decoded, and no other thread shares its readers),
    else the clip's stems."""
    from ..audio import Stems

    files = [getattr(result, name, None) for name in ("original", "foreground", "background")]
    if all(f is not None and Path(f).is_file() for f in files):
        return Stems.from_files(*files)
    return stems


def _open_session(session: str | bool | None) -> Session | None:
    if session is False:
        return None
    if isinstance(session, str):
        return Session(f"named:{session}")
    key = cell_session_key()
    return Session(key) if key else None


def _store_key(service: ServiceChoice | None) -> str | None:
    """The service's name in the task store (see ``api.Settings.store_key``)."""
    if service is None:
        return None
    if service.settings is None:
        return LOCAL_ENGINE
    # Never a password in the session file: https://user:secret@host/… loses its user part.
    parts = urlsplit(service.settings.store_key)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _worth_keeping(clip: Clip) -> bool:
    """Done clips, and clips under way with a file (a new kernel may offer to retry them)."""
    return clip.state == "done" or (not clip.finished and clip.path is not None)
