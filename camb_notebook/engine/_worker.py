"""The code that runs inside a worker process: validate, decode, separate, store.

This module is imported by the worker processes only (and pre-loaded by the
forkserver), never by the server, so its heavy imports cost the server nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from .. import _vocabulary as reasons
from .._exceptions import (
    AudioDecodeError,
    AudioFormatError,
    ConfigurationError,
    LimitExceededError,
    redact,
)
from ..audio import Limits, load, probe, rms_db
from ._jobs import JobFailure, JobResult, JobSpec
from ._lossless import write_stem

# Pre-load the methods too, so workers forked from the forkserver start warm.
with contextlib.suppress(ImportError):
    from .. import methods  # noqa: F401

__all__ = ["JobError", "run_job", "worker_main"]

#: Share of the progress bar before and after the method runs (probe+decode / store).
_PREP, _STORE = 0.05, 0.05
_PROGRESS_EVERY = 0.2  # seconds between progress messages


class JobError(Exception):
    """A job failed for a reason the client should see as ``exception_reason``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def worker_main(conn: Connection, nice: int = 0) -> None:
    """Serve jobs from *conn* until it closes or sends ``None``.

    Messages sent back: ``("started", job_id, pid)``, ``("progress", job_id, fraction)``,
    ``("done", job_id, JobResult)`` and ``("failed", job_id, JobFailure)``.
    """
    # Ctrl-C in the notebook interrupts the kernel, not our jobs; the server stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice:
        with contextlib.suppress(OSError, AttributeError):
            os.nice(nice)
    send_lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with send_lock:
            conn.send(message)

    while True:
        try:
            spec = conn.recv()
        except (EOFError, OSError):
            return
        if spec is None:
            return
        send(("started", spec.job_id, os.getpid()))
        last = [0.0]

        def progress(fraction: float, _id: str = spec.job_id, _last: list[float] = last) -> None:
            now = time.monotonic()
            if now - _last[0] >= _PROGRESS_EVERY:
                _last[0] = now
                send(("progress", _id, min(max(float(fraction), 0.0), 1.0)))

        try:
            outcome: JobResult | JobFailure = run_job(spec, progress)
        except JobError as exc:
            outcome = JobFailure(exc.reason, redact(exc.message))
        except Exception as exc:  # a bug or a resource problem: report, keep serving
            outcome = JobFailure(
                reasons.PROCESSING_ERROR,
                redact(f"separation failed: {type(exc).__name__}: {exc}"),
            )
        kind = "done" if isinstance(outcome, JobResult) else "failed"
        try:
            send((kind, spec.job_id, outcome))
        except (OSError, ValueError):
            return


def run_job(spec: JobSpec, progress: Any = None) -> JobResult:
    """Run one job: probe the upload like the cloud does, separate it, store the stems.

    Raises
    ------
    JobError
        With the cloud's ``exception_reason`` for a bad source or a failing method.
    """
    started = time.perf_counter()
    report = progress or (lambda fraction: None)
    path = Path(spec.input_path)
    _validate(path, spec)

    try:
        audio, sr = load(path)
    except (AudioDecodeError, AudioFormatError) as exc:
        raise JobError(reasons.INVALID_SOURCE_DATA, f"could not decode the source: {exc}") from exc
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    report(_PREP)

    method, note = _resolve_method(spec.method, spec.extra_methods)

    def method_progress(fraction: float) -> None:
        report(_PREP + (1.0 - _PREP - _STORE) * min(max(float(fraction), 0.0), 1.0))

    fg, bg = method.separate(audio, sr, progress=method_progress)
    fg = np.asarray(fg, dtype=np.float32)
    bg = np.asarray(bg, dtype=np.float32)
    if fg.shape != audio.shape or bg.shape != audio.shape:
        raise JobError(
            reasons.PROCESSING_ERROR,
            f"method {method.name!r} returned stems of shape {fg.shape} and {bg.shape}, "
            f"expected {audio.shape} like the original",
        )
    report(1.0 - _STORE)

    out_dir = Path(spec.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    clipped = 0
    stored = []
    for stem, data in (("foreground", fg), ("background", bg)):
        name, n_clipped = write_stem(out_dir, stem, data, sr, spec.output_format)
        files[stem] = name
        clipped += n_clipped
        back, _ = sf.read(out_dir / name, dtype="float32", always_2d=True)
        stored.append(back.T)
    residual = audio - stored[0] - stored[1]
    residual_dbfs = rms_db(residual)
    report(1.0)
    return JobResult(
        method=method.name,
        files=files,
        sample_rate=int(sr),
        channels=int(audio.shape[0]),
        frames=int(audio.shape[1]),
        residual_dbfs=residual_dbfs,
        residual_rel_db=residual_dbfs - rms_db(audio),
        elapsed=time.perf_counter() - started,
        clipped_samples=clipped,
        method_note=note,
    )


def _validate(path: Path, spec: JobSpec) -> None:
    """Judge the upload like the cloud: type, content vs extension, limits, integrity.

    ``probe`` names the cloud's ``exception_reason`` on each error it raises.
    """
    limits = Limits(
        max_duration=spec.max_duration, max_bytes=spec.max_bytes, min_duration=spec.min_duration
    )
    try:
        probe(path, limits=limits)
    except LimitExceededError as exc:
        reason = getattr(exc, "exception_reason", None) or reasons.SOURCE_TOO_LONG
        raise JobError(reason, str(exc)) from exc
    except AudioFormatError as exc:
        reason = getattr(exc, "exception_reason", None) or reasons.SOURCE_TYPE_NOT_SUPPORTED
        raise JobError(reason, str(exc)) from exc
    except AudioDecodeError as exc:
        raise JobError(reasons.INVALID_SOURCE_DATA, str(exc)) from exc


_METHODS: dict[tuple[str | None, str | None], tuple[Any, str | None]] = {}


def _resolve_method(name: str | None, extra: dict[str, str]) -> tuple[Any, str | None]:
    """Return ``(method, note)``, built once per worker; a missing model falls back to repet."""
    key = (name, extra.get(name) if name is not None else None)
    if key not in _METHODS:
        _METHODS[key] = _build_method(name, extra)
    return _METHODS[key]


def _build_method(name: str | None, extra: dict[str, str]) -> tuple[Any, str | None]:
    if name is not None and name in extra:
        module_name, _, attr = extra[name].partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        return factory(), None
    from ..methods import get_method

    try:
        return get_method(name), None
    except ConfigurationError as exc:
        fallback = get_method("repet")
        return fallback, f"{name} is not available here ({exc}); fell back to {fallback.name}"
