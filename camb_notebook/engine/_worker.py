"""The code that runs inside a worker process: validate, decode, separate, store — streamed.

This module is imported by the worker processes only (and pre-loaded by the
forkserver), never by the server, so its heavy imports cost the server nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import queue
import signal
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from .. import _vocabulary as reasons
from .._exceptions import (
    AudioDecodeError,
    AudioFormatError,
    LimitExceededError,
    redact,
)
from ..audio import LevelAccumulator, Limits, open_audio, open_writer, probe
from ..methods._stream import SampleQueue, separate_blocks
from ._jobs import JobFailure, JobResult, JobSpec


def _one_malloc_arena() -> None:
    """Let every thread of this process allocate from one glibc malloc arena.

    A job runs ~7 threads (decoder, stem writer, the methods' network threads, ...); glibc
    gives each its own arena, and each keeps the memory its thread freed for that thread
    alone: the hybrid's engine job peaked ~50-70 MB higher with per-thread arenas
    (benchmarks/RESULTS.md 'speech'). The threads' allocations are few and large (numpy
    blocks; onnxruntime's Spleeter sessions keep their own arena), so sharing one costs no
    measurable time. Called on import: the forkserver pre-loads this module before any
    worker thread exists, and its forked workers inherit the setting. A no-op where the C
    library has no ``mallopt`` (not glibc).
    """
    import ctypes
    import ctypes.util

    m_arena_max = -8  # glibc's malloc.h
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).mallopt(m_arena_max, 1)


_one_malloc_arena()

# Pre-load the methods too, so workers forked from the forkserver start warm.
with contextlib.suppress(ImportError):
    from .. import methods  # noqa: F401

__all__ = ["JobError", "run_job", "warm_up", "worker_main"]

#: Share of the progress bar before and after the method runs (probe+decode / store).
_PREP, _STORE = 0.05, 0.05
_PROGRESS_EVERY = 0.2  # seconds between progress messages


#: Seconds of separation per second of audio, by method, from this worker's earlier jobs.
_PACE: dict[str, float] = {}
_PACE_TICK = 0.25  # seconds between estimates


class _Pacer:
    """Moves a job's progress on between its method's own reports, at the pace seen so far.

    Methods report when they finish a block (spleeter: every 12 s of audio), which on a short
    clip is a jump from 5 % to 95 % with nothing in between. Between reports this adds what
    the time since the start is worth at the pace of this worker's earlier jobs with the
    method (or of its warm-up run, :func:`warm_up`), never more than 90 % of the way to the
    end. Once the method has reported twice, its own pace takes over (a stream's first report
    comes late: a block is finished only when the next one overlaps it), and an estimate goes
    at most 90 % of the way to where the next report is expected. The method's own reports
    always win and progress never goes back; with no pace known nothing is made up.
    """

    def __init__(self, report: Any, method: str, audio_seconds: float) -> None:
        self._report, self._method, self._audio = report, method, max(audio_seconds, 1e-3)
        self._lock = threading.Lock()
        self._start = self._last_t = time.monotonic()
        self._last_f = 0.0
        self._high = 0.0  # the most reported so far: progress never goes back
        self._step: float | None = None  # fraction covered by one of the method's reports
        self._reports = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camb-pacer", daemon=True)

    def __call__(self, fraction: float) -> None:
        self._send(fraction, own=True)

    def _send(self, fraction: float, own: bool) -> None:
        with self._lock:
            if own and fraction > self._last_f:
                self._step = fraction - self._last_f
                self._reports += 1
                self._last_t, self._last_f = time.monotonic(), fraction
            if fraction <= self._high:
                return  # an estimate ran ahead of the method's next report: keep the higher
            self._high = fraction
            self._report(fraction)  # under the lock: the two threads' reports stay in order

    def _estimate(self) -> float | None:
        with self._lock:
            now, last_f, last_t = time.monotonic(), self._last_f, self._last_t
            step, reports = self._step, self._reports
        known = _PACE.get(self._method)
        if reports >= 2 or (reports == 1 and known is None):
            seconds_per_fraction = (last_t - self._start) / last_f
            if seconds_per_fraction <= 0:
                return None
            ceiling = last_f + 0.9 * (step or 0.0)
            linear = last_f + (now - last_t) / seconds_per_fraction
        elif known:
            ceiling = last_f + 0.9 * (1.0 - last_f)
            linear = (now - self._start) / (known * self._audio)
            if reports and last_t > self._start:  # a late first report: was that pace too slow?
                linear = max(linear, last_f * (now - self._start) / (last_t - self._start))
        else:
            return None
        return min(0.99, _ease(last_f, linear, ceiling))

    def _run(self) -> None:
        while not self._stop.wait(_PACE_TICK):
            estimate = self._estimate()
            if estimate is not None and estimate > self._last_f:
                self._send(estimate, own=False)

    def __enter__(self) -> _Pacer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if exc[0] is None:
            _PACE[self._method] = (time.monotonic() - self._start) / self._audio


def _ease(floor: float, linear: float, ceiling: float) -> float:
    """*linear* on the way from *floor* to *ceiling*, slowing down past half-way so that a job
    slower than the pace promised keeps moving in ever smaller steps instead of stopping.

    >>> round(_ease(0.0, 0.2, 1.0), 3), round(_ease(0.0, 1.0, 1.0), 3), _ease(0.0, 9.0, 1.0) < 1
    (0.2, 0.816, True)
    """
    span = ceiling - floor
    if span <= 0 or linear <= floor:
        return floor
    u = (linear - floor) / span
    return floor + span * (u if u <= 0.5 else 1.0 - 0.5 * math.exp(-(u - 0.5) / 0.5))


class JobError(Exception):
    """A job failed for a reason the client should see as ``exception_reason``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


#: Length of the warm-up clip: one segment of spleeter, so its pace is a real job's pace.
_WARM_SECONDS = 12.0


def warm_up(method: str | None = None) -> None:
    """Run *method* (None: the best installed) once on a short synthetic clip, to learn its pace.

    A worker that warms up loads its model before the first job arrives, and that job's
    progress moves from the start (:class:`_Pacer` knows the pace: the warm-up goes the
    same way as a job, decoding a file and writing both stems). Never fatal: a method that
    cannot be built here fails again, with its reason, in the job that asks for it.

    Examples
    --------
    >>> warm_up()  # doctest: +SKIP
    """
    import tempfile

    import soundfile as sf

    sr = 44100
    t = np.arange(int(_WARM_SECONDS * sr)) / sr
    tone = 0.2 * np.sin(2 * np.pi * 220.0 * t) * (1.0 + np.sin(2 * np.pi * 0.5 * t)) / 2
    noise = np.random.default_rng(0).standard_normal(t.size) * 0.02
    with contextlib.suppress(Exception), tempfile.TemporaryDirectory(prefix="camb-warm-") as d:
        sf.write(Path(d, "warm.wav"), np.stack([tone + noise, tone - noise]).T, sr)
        run_job(JobSpec("warm-up", str(Path(d, "warm.wav")), d, method=method))


def worker_main(
    conn: Connection, nice: int = 0, warm: bool = False, method: str | None = None
) -> None:
    """Serve jobs from *conn* until it closes or sends ``None``.

    With *warm*, first :func:`warm_up` with *method* (jobs sent meanwhile wait in the pipe).
    Messages sent back: ``("started", job_id, pid)``, ``("progress", job_id, fraction)``,
    ``("done", job_id, JobResult)`` and ``("failed", job_id, JobFailure)``.
    """
    # Ctrl-C in the notebook interrupts the kernel, not our jobs; the server stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice:
        with contextlib.suppress(OSError, AttributeError):
            os.nice(nice)
    if warm:
        warm_up(method)
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

    Everything streams: the source is decoded block by block on a thread, separated on a
    stream (:func:`~camb_notebook.methods.separate_blocks`), and both stems are written
    block by block on another thread, so memory does not depend on the clip's length. A stem
    file appears only complete (written under a temporary name, renamed at the end); a job
    that fails half-way leaves none.

    Raises
    ------
    JobError
        With the cloud's ``exception_reason`` for a bad source or a failing method.
    """
    started = time.perf_counter()
    report = progress or (lambda fraction: None)
    path = Path(spec.input_path)
    _validate(path, spec)
    method, note = _resolve_method(spec.method, spec.extra_methods)

    def method_progress(fraction: float) -> None:
        report(_PREP + (1.0 - _PREP - _STORE) * min(max(float(fraction), 0.0), 1.0))

    try:
        with open_audio(path) as reader:
            report(_PREP)
            seconds = (reader.frames or 0) / reader.sample_rate
            with _Pacer(method_progress, method.name, seconds) as pacer:
                out = _separate_to_files(
                    method, reader, Path(spec.out_dir), spec.output_format, pacer
                )
    except (AudioDecodeError, AudioFormatError) as exc:
        raise JobError(reasons.INVALID_SOURCE_DATA, f"could not decode the source: {exc}") from exc
    report(1.0)
    return JobResult(
        method=method.name,
        files=out.files,
        sample_rate=out.sample_rate,
        channels=out.channels,
        frames=out.frames,
        residual_dbfs=out.residual.value,
        residual_rel_db=out.residual.value - out.original.value,
        elapsed=time.perf_counter() - started,
        clipped_samples=out.clipped,
        method_note=note,
    )


#: Samples per decoded block (~1.5 s at 44.1 kHz); with the queues below a few MB in flight.
_BLOCK = 1 << 16
_QUEUED = 4


class _Stored:
    """What :func:`_separate_to_files` wrote and measured."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.files: dict[str, str] = {}
        self.frames = 0
        self.clipped = 0
        self.residual = LevelAccumulator()  # original - stored foreground - stored background
        self.original = LevelAccumulator()


def _separate_to_files(
    method: Any, reader: Any, out_dir: Path, output_format: str, progress: Any
) -> _Stored:
    """Decode -> separate -> write both stems, block by block, with decoding and writing on
    their own threads (the codecs release the GIL, so they overlap with the method)."""
    sr, channels = reader.sample_rate, reader.channels
    fmt = output_format if output_format == "wav" or channels <= 8 else "wav"  # FLAC: <= 8 ch
    stored = _Stored(sr, channels)
    pending = SampleQueue(channels)  # decoded samples waiting for their stems (the residual)
    decoded = 0

    def source(blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        nonlocal decoded
        for block in blocks:
            pending.push(block)
            decoded += block.shape[1]
            yield block

    def wrong(what: str) -> JobError:
        return JobError(
            reasons.PROCESSING_ERROR,
            f"method {method.name!r} returned stems of shape {what}, expected "
            f"({channels}, {decoded}) like the original",
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {stem: out_dir / f"{stem}.{fmt}" for stem in ("foreground", "background")}
    with (
        open_writer(paths["foreground"], sr, channels, fmt) as fg_file,
        open_writer(paths["background"], sr, channels, fmt) as bg_file,
        _Background(_Sink(fg_file, bg_file, stored, fmt == "flac")) as sink,
        _Prefetch(reader.blocks(_BLOCK)) as blocks,
        contextlib.closing(
            separate_blocks(method, source(blocks), sr, channels, progress, reader.frames)
        ) as stems,
    ):
        for fg, bg in stems:
            fg, bg = np.asarray(fg, np.float32), np.asarray(bg, np.float32)
            if fg.shape != bg.shape or fg.ndim != 2 or fg.shape[0] != channels:
                raise wrong(f"{fg.shape} and {bg.shape} (a block after {stored.frames} samples)")
            if fg.shape[1] > len(pending):
                raise wrong(f"({channels}, {stored.frames + fg.shape[1]}) or more")
            sink.put((pending.pop(fg.shape[1]), fg, bg))
            stored.frames += fg.shape[1]
        if len(pending):
            raise wrong(f"({channels}, {stored.frames})")
    stored.files = {stem: p.name for stem, p in paths.items()}
    return stored


class _Sink:
    """Writes one block of both stems and measures what was stored (runs on a thread)."""

    def __init__(self, fg_file: Any, bg_file: Any, stored: _Stored, flac: bool) -> None:
        self._files = (fg_file, bg_file)
        self._stored = stored
        self._flac = flac

    def __call__(self, item: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        x, fg, bg = item
        residual = x.copy()
        for f, stem in zip(self._files, (fg, bg), strict=True):
            before = f.clipped_samples
            f.write(stem)
            self._stored.clipped += f.clipped_samples - before
            residual -= _as_stored(stem) if self._flac else stem
        self._stored.residual.add(residual)
        self._stored.original.add(x)


def _as_stored(x: np.ndarray) -> np.ndarray:
    """What 24-bit FLAC stores for float samples: clipped to ±1, rounded to 1/2^23 steps."""
    scale = np.float32(1 << 23)
    q = np.rint(np.clip(x, -1.0, 1.0) * scale)
    np.clip(q, -scale, scale - 1, out=q)
    q /= scale
    return q


class _Background:
    """Run ``consume(item)`` on a thread for each :meth:`put` item, through a bounded queue.

    Leaving the ``with`` block waits for the queue to drain; an error on the thread is
    raised in the caller (at the next ``put`` or on leaving).
    """

    def __init__(self, consume: Any) -> None:
        self._consume = consume
        self._queue: queue.Queue = queue.Queue(_QUEUED)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="stem-writer", daemon=True)

    def __enter__(self) -> _Background:
        self._thread.start()
        return self

    def __exit__(self, exc_type: Any, *rest: object) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and exc_type is None:
            raise self._error

    def put(self, item: Any) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._consume(item)
                except BaseException as exc:  # re-raised in the caller's thread
                    self._error = exc


class _Prefetch:
    """Iterate ``blocks`` on a thread, a few blocks ahead; its errors are raised in order.

    A context manager: leaving it stops and joins the thread, even half-way.
    """

    _END = object()

    def __init__(self, blocks: Iterator[np.ndarray]) -> None:
        self._blocks = blocks
        self._queue: queue.Queue = queue.Queue(_QUEUED)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="decoder", daemon=True)

    def __enter__(self) -> Iterator[np.ndarray]:
        self._thread.start()
        return self._iter()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _iter(self) -> Iterator[np.ndarray]:
        while (item := self._queue.get()) is not self._END:
            if isinstance(item, BaseException):
                raise item
            yield item

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            with contextlib.suppress(queue.Full):
                self._queue.put(item, timeout=0.1)
                return True
        return False

    def _run(self) -> None:
        try:
            for block in self._blocks:
                if not self._put(block):
                    return
            self._put(self._END)
        except BaseException as exc:  # handed over to the consumer
            self._put(exc)


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
    """Return ``(method, note)``, built once per worker; a missing model: the best installed."""
    key = (name, extra.get(name) if name is not None else None)
    if key not in _METHODS:
        _METHODS[key] = _build_method(name, extra)
    return _METHODS[key]


def _build_method(name: str | None, extra: dict[str, str]) -> tuple[Any, str | None]:
    if name is not None and name in extra:
        module_name, _, attr = extra[name].partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        return factory(), None
    from ..methods import resolve_method

    # The method asked for, else the best one installed (e.g. "hybrid" without the speech
    # model: "spleeter", not "repet"), with a note the task's message carries.
    return resolve_method(name)
