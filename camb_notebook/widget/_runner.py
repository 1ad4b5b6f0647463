"""The background runner: one clip's way from file to playable lanes, off the kernel's main thread.

Why worker threads and not asyncio tasks on the kernel's loop: a task on the loop
stops whenever a cell runs blocking code (``time.sleep``, ``w.wait()``, a long
computation), and ipykernel 6 (tornado) and 7 (anyio, subshells) run that loop
differently. Worker threads keep polling whatever the main thread does; their
only contact with the front end is setting the widget's small ``clips`` trait,
and comm messages from threads are safe on both kernels (IOPub has its own
thread since ipykernel 4.3). ipykernel 7.0.0 raised LookupError when a thread
that lacked the kernel's context sent a comm message (the parent header lived in
a ContextVar; threads started outside a cell hit it, fixed in 7.0.1), so every
run executes in a copy of the starting thread's context, however its thread was made.

Each run of a clip is an *attempt*. Cancel marks the clip cancelled at once and
bumps nothing the worker could still overwrite: a worker only reports for its
own attempt, so a late status from a cancelled run is ignored, and Retry starts
a new attempt with a fresh cancel event. The cancelled attempt may still add a note
(``Reporter.annotate``: "the engine stopped the job").
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .._exceptions import CancelledError, redact
from ._advice import cancel_hint, describe_error
from ._media import LaneVisuals, prepare_visuals, preview_bitrate
from ._picture import clip_picture
from ._prepare import prepare_lanes
from ._preview import Preview
from ._states import FINAL_STATES, LANES

__all__ = [
    "SHOWN_LANES",
    "Clip",
    "Pipeline",
    "Reporter",
    "Runner",
]

log = logging.getLogger("camb_notebook.widget")

#: Lanes shown when a clip is done; the residual's pictures are sent when asked for (they
#: are made in the same pass as the others, and kept until then).
SHOWN_LANES = ("original", "foreground", "background")


class Reporter(Protocol):
    """What a pipeline calls to report progress; raises CancelledError once cancelled.

    ``cancel`` is set when the user cancels; pass it to blocking calls that accept one.
    ``report(state, progress, detail=..., **facts)``: *detail* is a short phrase the badge
    shows instead of the state's name (e.g. ``"queued: position 2 of 3"``).
    """

    cancel: threading.Event

    def __call__(self, state: str, progress: float | None = None, **facts: Any) -> None: ...

    def annotate(self, **changes: Any) -> None:
        """Change this attempt's ``message``/``hint`` even after it was cancelled."""


class _Report:
    """The :class:`Reporter` of one attempt of one clip."""

    def __init__(self, runner: Runner, clip: Clip, attempt: int, cancel: threading.Event):
        self._runner, self._clip, self._attempt, self.cancel = runner, clip, attempt, cancel

    def __call__(self, state: str, progress: float | None = None, **facts: Any) -> None:
        clip = self._clip
        if self.cancel.is_set():
            raise CancelledError(f"{clip.name}: cancelled")
        detail = str(facts.pop("detail", "") or "")
        if (
            not facts
            and state == clip.state
            and detail == clip.detail
            and progress is not None
            and clip.progress is not None
            and 0 <= progress - clip.progress < 0.01
        ):
            return  # same state, under 1 % more: not worth a message to the browser
        changes: dict[str, Any] = {"state": state, "progress": progress, "detail": detail}
        if state == "submitting" and clip.started is None:
            changes["started"] = time.monotonic()
        if facts:
            changes["facts"] = {**clip.facts, **facts}
        self._runner._update(clip, self._attempt, **changes)

    def annotate(self, **changes: Any) -> None:
        self._runner.annotate(self._clip, self._attempt, **changes)


#: ``pipeline(path, report) -> result``: validate, submit, wait and download one clip.
Pipeline = Callable[[Path, Reporter], Any]


@dataclass(eq=False)
class Clip:
    """One clip of the widget: its state, its result and the media for its lanes."""

    id: str
    name: str
    size: int = 0
    path: Path | None = None
    source: str = "disk"
    state: str = "waiting"
    progress: float | None = None
    detail: str = ""
    message: str = ""
    hint: str = ""
    action: str = ""
    started: float | None = None
    elapsed: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)
    lanes: list[str] = field(default_factory=list)
    levels: dict[str, float] = field(default_factory=dict)
    result: Any = None
    stems: Any = None
    error: BaseException | None = None
    traceback: str = ""
    visuals: dict[str, LaneVisuals] = field(default_factory=dict)
    #: Pictures made with the others but not shown yet (the residual's).
    spare_visuals: dict[str, LaneVisuals] = field(default_factory=dict)
    preview: Preview | None = None
    picture: str = ""
    scale: tuple[float, float] | None = None
    attempt: int = 0
    cancel_event: threading.Event = field(default_factory=threading.Event)
    future: Future[Any] | None = None
    done_event: threading.Event = field(default_factory=threading.Event)
    #: One run of several of the same file (``add_file(path, methods=[...])``): the card's id
    #: (shared by its runs) and this run's name; "" for a clip of its own.
    group: str = ""
    run: str = ""
    #: This run's own pipeline (its method or service); None: the runner's.
    pipeline: Pipeline | None = None
    #: Where the run's task lives in the task store (None: the widget's service).
    store: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    def to_state(self) -> dict[str, Any]:
        """The small, JSON-able view of this clip that the front end gets (no audio, no key)."""
        elapsed = self.elapsed
        if self.started is not None and not self.finished:
            elapsed = time.monotonic() - self.started
        return {
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "source": self.source,
            "state": self.state,
            "progress": self.progress,
            "detail": self.detail,
            "message": self.message,
            "hint": self.hint,
            "action": self.action,
            "elapsed": round(elapsed, 2),
            "facts": dict(self.facts),
            "lanes": list(self.lanes),
            "levels": {k: round(v, 1) for k, v in self.levels.items()},
            "attempt": self.attempt,
            **({"group": self.group, "run": self.run} if self.group else {}),
        }


class Runner:
    """Run clips through a pipeline on worker threads and keep their state current.

    Parameters
    ----------
    pipeline : callable
        ``pipeline(path, report) -> result`` where ``result.stems()`` gives
        :class:`camb_notebook.audio.Stems`; it calls ``report(state, progress, **facts)``.
        An optional attribute ``can_stop_tasks`` (bool) says whether its service can stop a
        task it accepted (the local engine can, CAMB.AI's cloud cannot).
    on_change : callable
        ``on_change(clip)`` after every state change, from the thread that made it.
    on_done : callable, optional
        ``on_done(clip)`` once a clip is done, from its worker thread.
    max_workers : int
        Clips processed at the same time.
    lock : threading.RLock, optional
        Guards every change of a clip; the widget shares it.

    Examples
    --------
    >>> # runner = Runner(pipeline, on_change=print); runner.start(clip); clip.done_event.wait()
    """

    def __init__(
        self,
        pipeline: Pipeline,
        on_change: Callable[[Clip], None],
        *,
        on_done: Callable[[Clip], None] | None = None,
        max_workers: int = 2,
        lock: threading.RLock | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.on_change = on_change
        self.on_done = on_done
        self.lock = lock or threading.RLock()
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="camb-widget")
        self._closed = False

    # -- state changes (all under the lock, only for the current attempt) ----------
    def _update(self, clip: Clip, attempt: int | None, **changes: Any) -> bool:
        with self.lock:
            if attempt is not None and attempt != clip.attempt:
                return False
            if attempt is not None and clip.finished:
                return False
            for name, value in changes.items():
                setattr(clip, name, value)
            if clip.finished and clip.started is not None:
                clip.elapsed = time.monotonic() - clip.started
        self.on_change(clip)
        return True

    def set_state(self, clip: Clip, state: str, progress: float | None = None, **kw: Any) -> None:
        """Change a clip's state from outside a worker (e.g. while its upload arrives)."""
        self._update(clip, None, state=state, progress=progress, **kw)

    def annotate(self, clip: Clip, attempt: int, **changes: Any) -> None:
        """Change ``message``/``hint`` of *attempt*, even once it ended (e.g. cancelled)."""
        with self.lock:
            if attempt != clip.attempt:
                return
            for name, value in changes.items():
                setattr(clip, name, value)
        self.on_change(clip)

    def fail(self, clip: Clip, error: BaseException) -> None:
        """Mark a clip failed with the reason, a hint and the action its card offers."""
        advice = describe_error(error)
        with self.lock:
            clip.error = error
            clip.traceback = redact("".join(traceback.format_exception(error)))
        self._update(
            clip,
            None,
            state="failed",
            progress=None,
            detail="",
            message=advice.message,
            hint=advice.hint,
            action=advice.action,
        )
        clip.done_event.set()

    # -- public ---------------------------------------------------------------------
    def start(self, clip: Clip, *, result: Any = None) -> Future[Any]:
        """Queue a clip (again): a new attempt with a fresh cancel event.

        With *result* (a finished separation found again, e.g. after a kernel restart) the
        pipeline is skipped: only the player's media are prepared.
        """
        if self._closed:
            raise RuntimeError("this widget was closed; create a new SeparationWidget")
        if clip.path is None and result is None:
            raise ValueError(f"clip {clip.name!r} has no file yet")
        with self.lock:
            clip.attempt += 1
            attempt = clip.attempt
            clip.cancel_event = threading.Event()
            clip.done_event = threading.Event()
            clip.error, clip.traceback, clip.result, clip.stems = None, "", None, None
            clip.visuals, clip.preview, clip.picture = {}, None, ""
            clip.spare_visuals = {}
            clip.lanes, clip.levels, clip.scale = [], {}, None
            clip.state, clip.progress, clip.detail = "waiting", None, ""
            clip.message, clip.hint, clip.action = "", "", ""
            clip.started, clip.elapsed = None, 0.0
            # Each run carries a copy of the caller's context: ipykernel 7.0.0 read the
            # parent header from a ContextVar and raised LookupError in bare threads.
            context = contextvars.copy_context()
            future = self._executor.submit(
                context.run, self._run, clip, attempt, clip.cancel_event, result
            )
            clip.future = future
        self.on_change(clip)
        return future

    def cancel(self, clip: Clip) -> bool:
        """Stop a clip; returns False when it had already finished."""
        with self.lock:
            if clip.finished:
                return False
            was = clip.state
            clip.cancel_event.set()
            if clip.future is not None:
                clip.future.cancel()  # drops it if no worker picked it up yet
        can_stop = bool(getattr(clip.pipeline or self.pipeline, "can_stop_tasks", False))
        self._update(
            clip,
            None,
            state="cancelled",
            progress=None,
            detail="",
            message="Cancelled.",
            hint=cancel_hint(was, can_stop),
            action="retry",
        )
        clip.done_event.set()
        return True

    def close(self) -> None:
        """Stop accepting clips and stop waiting on the ones running."""
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- the worker --------------------------------------------------------------------
    def _run(self, clip: Clip, attempt: int, cancel: threading.Event, found: Any) -> None:
        report = _Report(self, clip, attempt, cancel)
        try:
            if found is not None:
                result = found
            else:
                assert clip.path is not None
                result = (clip.pipeline or self.pipeline)(clip.path, report)
            self._prepare(clip, attempt, result, report)
        except CancelledError:
            pass  # cancel() already marked the clip
        except BaseException as error:
            if attempt == clip.attempt and not cancel.is_set():
                log.debug("clip %s failed", clip.name, exc_info=True)
                self.fail(clip, error)
        finally:
            if attempt == clip.attempt:
                clip.done_event.set()

    def _prepare(self, clip: Clip, attempt: int, result: Any, report: _Report) -> None:
        """The player's media: one preview of every lane, and each shown lane's pictures."""
        report("preparing", 0.0)
        # This thread's own readers (see own_stems), closed after the pass; one pass over
        # the stem files in blocks makes every lane's pictures and level and the preview
        # (see _prepare). Its reader thread is the only one using them while it runs.
        # Progress is reported from this thread, in this run's context.
        stems = own_stems(result)
        try:
            channels = min(stems.channels, 2) * len(LANES)
            bitrate = preview_bitrate(stems.duration, channels=channels)
            prepared = prepare_lanes(
                stems, bitrate=bitrate, progress=lambda fraction: report("preparing", fraction)
            )
        finally:
            close = getattr(stems, "close", None)
            if close is not None and stems is not getattr(result, "_stems", None):
                close()
        visuals = {lane: prepared.visuals[lane] for lane in SHOWN_LANES}
        spare = {k: v for k, v in prepared.visuals.items() if k not in SHOWN_LANES}
        preview, scale = prepared.preview, prepared.scale
        picture = clip_picture([visuals[lane].spectrogram for lane in SHOWN_LANES])
        facts = {
            "duration": round(stems.duration, 3),
            "sample_rate": int(stems.sr),
            "channels": int(stems.channels),
            "bitrate": preview.bitrate // len(LANES),  # per lane
        }
        method = getattr(result, "method", None)
        if method:
            facts["method"] = str(method)
        if getattr(result, "reused", False):
            facts["reused"] = True
        with self.lock:
            clip.result, clip.stems, clip.scale = result, stems, scale
            clip.visuals, clip.preview, clip.picture = visuals, preview, picture
            clip.spare_visuals = spare
        done = self._update(
            clip,
            attempt,
            state="done",
            progress=1.0,
            detail="",
            lanes=list(SHOWN_LANES),
            levels=prepared.levels,
            facts={**clip.facts, **facts},
            message="",
            hint="",
            action="",
        )
        if done and self.on_done is not None:
            self.on_done(clip)

    def prepare_extra_lane(self, clip: Clip, lane: str) -> None:
        """Prepare one more lane's pictures (the residual) of a finished clip, in a thread."""

        def work() -> None:
            try:
                with self.lock:
                    result, scale = clip.result, clip.scale
                if result is None or scale is None or lane in clip.visuals:
                    return
                with self.lock:
                    visuals = clip.spare_visuals.pop(lane, None)
                if visuals is None:
                    visuals = _with_own_stems(prepare_visuals)(result, lane, scale=scale)
                with self.lock:
                    clip.visuals[lane] = visuals
                    if lane not in clip.lanes:
                        clip.lanes = [*clip.lanes, lane]
                self.on_change(clip)
            except Exception as error:  # the card shows it; the clip stays done
                self._update(
                    clip, None, message=f"{lane} lane failed: {describe_error(error).message}"
                )

        context = contextvars.copy_context()
        threading.Thread(
            target=context.run, args=(work,), name=f"camb-widget-{lane}", daemon=True
        ).start()


def own_stems(result: Any) -> Any:
    """Stems of *result* read through readers of their own.

    ``SeparationResult.stems()`` is cached and shared (the notebook may use it too), and a
    file-backed :class:`~camb_notebook.audio.Stems` reads through one decoder per file, which
    two threads must not use at once (libsndfile corrupts its heap). Every thread of the
    widget that reads stems therefore opens its own, closed when it is done.
    """
    paths = [getattr(result, name, None) for name in ("original", "foreground", "background")]
    if all(isinstance(p, (str, os.PathLike)) for p in paths):
        from ..audio import Stems

        return Stems.from_files(*paths)
    return result.stems()  # a stand-in with arrays, nothing shared to protect


def _with_own_stems(work: Callable[..., Any]) -> Callable[..., Any]:
    """``work(stems, ...)`` run on stems of its own, opened from *result* and closed after."""

    def run(result: Any, *args: Any, **kwargs: Any) -> Any:
        stems = own_stems(result)
        try:
            return work(stems, *args, **kwargs)
        finally:
            close = getattr(stems, "close", None)
            if close is not None and stems is not getattr(result, "_stems", None):
                close()

    return run
