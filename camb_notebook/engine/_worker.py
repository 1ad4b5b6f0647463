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

from .._exceptions import (
    AudioDecodeError,
    AudioFormatError,
    ConfigurationError,
    LimitExceededError,
    redact,
)
from ..audio import Limits, load, probe, rms_db
from . import _jobs
from ._jobs import JobFailure, JobResult, JobSpec

# Pre-load the methods too, so workers forked from the forkserver start warm.
with contextlib.suppress(ImportError):
    import camb_notebook.methods  # noqa: F401

__all__ = ["JobError", "run_job", "worker_main"]

#: Share of the progress bar before and after the method runs (probe+decode / store).
_PREP, _STORE = 0.05, 0.05
_PROGRESS_EVERY = 0.2  # seconds between progress messages


#: Seconds of separation per second of audio, by method, from this worker's earlier jobs.
_PACE: dict[str, float] = {}
_PACE_TICK = 0.25  # seconds between estimates


class _Pacer:
    """Moves a job's progress on between its method's own reports, at the pace seen so far.

    Methods report when they finish a block (spleeter: every 12 s of audio), which on a short
    clip is a jump from 5 % to 50 % with nothing in between. Between reports this adds what
    the time since the last one is worth at the pace of the earlier blocks (or, for a job's
    first block, of this worker's earlier jobs with the method), never more than 90 % of the
    way to where the next report is expected. The method's own reports always win; with no
    pace known yet nothing is made up.
    """

    def __init__(self, report: Any, method: str, audio_seconds: float) -> None:
        self._report, self._method, self._audio = report, method, max(audio_seconds, 1e-3)
        self._lock = threading.Lock()
        self._start = self._last_t = time.monotonic()
        self._last_f = 0.0
        self._step: float | None = None  # fraction covered by one of the method's reports
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camb-pacer", daemon=True)

    def __call__(self, fraction: float) -> None:
        with self._lock:
            if fraction > self._last_f:
                self._step = fraction - self._last_f
                self._last_t, self._last_f = time.monotonic(), fraction
        self._report(fraction)

    def _estimate(self) -> float | None:
        with self._lock:
            now, last_f, last_t, step = time.monotonic(), self._last_f, self._last_t, self._step
        if last_f > 0:
            seconds_per_fraction = (last_t - self._start) / last_f
        elif self._method in _PACE:
            seconds_per_fraction = _PACE[self._method] * self._audio
        else:
            return None
        if seconds_per_fraction <= 0:
            return None
        ceiling = last_f + 0.9 * (step if step else 1.0 - last_f)
        return min(ceiling, 0.99, last_f + (now - last_t) / seconds_per_fraction)

    def _run(self) -> None:
        while not self._stop.wait(_PACE_TICK):
            estimate = self._estimate()
            if estimate is not None and estimate > self._last_f:
                self._report(estimate)

    def __enter__(self) -> _Pacer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if exc[0] is None:
            _PACE[self._method] = (time.monotonic() - self._start) / self._audio


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
                _jobs.PROCESSING_ERROR,
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
        raise JobError(_jobs.INVALID_SOURCE_DATA, f"could not decode the source: {exc}") from exc
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    report(_PREP)

    method, note = _resolve_method(spec.method, spec.extra_methods)

    def method_progress(fraction: float) -> None:
        report(_PREP + (1.0 - _PREP - _STORE) * min(max(float(fraction), 0.0), 1.0))

    with _Pacer(method_progress, method.name, audio.shape[-1] / sr) as pacer:
        fg, bg = method.separate(audio, sr, progress=pacer)
    fg = np.asarray(fg, dtype=np.float32)
    bg = np.asarray(bg, dtype=np.float32)
    if fg.shape != audio.shape or bg.shape != audio.shape:
        raise JobError(
            _jobs.PROCESSING_ERROR,
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


def write_stem(out_dir: Path, stem: str, data: np.ndarray, sr: int, fmt: str) -> tuple[str, int]:
    """Write one stem losslessly; return its file name and the number of clipped samples.

    FLAC is 24-bit integer PCM (samples beyond ±1 are clipped and counted); WAV is
    32-bit float and bit-exact. FLAC holds at most 8 channels: more are stored as WAV.
    """
    if fmt == "flac" and data.shape[0] <= 8:
        clipped = int(np.count_nonzero(np.abs(data) > 1.0))
        name = f"{stem}.flac"
        sf.write(out_dir / name, np.clip(data, -1.0, 1.0).T, sr, format="FLAC", subtype="PCM_24")
        return name, clipped
    name = f"{stem}.wav"
    sf.write(out_dir / name, data.T, sr, format="WAV", subtype="FLOAT")
    return name, 0


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
        reason = getattr(exc, "exception_reason", None) or _jobs.SOURCE_TOO_LONG
        raise JobError(reason, str(exc)) from exc
    except AudioFormatError as exc:
        reason = getattr(exc, "exception_reason", None) or _jobs.SOURCE_TYPE_NOT_SUPPORTED
        raise JobError(reason, str(exc)) from exc
    except AudioDecodeError as exc:
        raise JobError(_jobs.INVALID_SOURCE_DATA, str(exc)) from exc


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
    from camb_notebook.methods import get_method

    try:
        return get_method(name), None
    except ConfigurationError as exc:
        fallback = get_method("repet")
        return fallback, f"{name} is not available here ({exc}); fell back to {fallback.name}"
