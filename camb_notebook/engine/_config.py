"""Settings of one engine instance: limits, queue, workers, storage."""

from __future__ import annotations

import dataclasses
import multiprocessing
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .._exceptions import ConfigurationError
from ._lossless import FORMATS

__all__ = ["EngineConfig"]


def _default_start_method() -> str:
    # forkserver forks workers from a clean, single-threaded server process that has
    # pre-imported the heavy modules: fast starts, and never a fork of the threaded
    # kernel or server. Where it does not exist (Windows, macOS quirks), spawn.
    if sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods():
        return "forkserver"
    return "spawn"


@dataclass(frozen=True)
class EngineConfig:
    """Settings of a local engine.

    Parameters
    ----------
    api_key : str or None
        When set, every ``/apis/...`` call must carry it in ``x-api-key`` (else 401).
        Never shown in the repr. One shared key, named ``default``.
    keys_file : Path or None
        A key per person: one ``name key`` pair per line. Each key sees only its own
        tasks, runs and results; another key's ids answer 404. Read again on SIGHUP
        (``camb-notebook serve``).
    admin_key : str or None
        A key that sees every task, and the per-key load in ``/apis/engine``.
    max_jobs_per_key : int or None
        Jobs one key may have waiting or running; one more answers 429 with
        ``Retry-After``.
    workers : int
        Worker processes that run separations in parallel.
    max_queue : int
        Accepted jobs that may wait for a worker; one more submission answers 429
        with ``Retry-After``.
    max_duration, min_duration : float
        Longest and shortest accepted clip, in seconds (``SOURCE_TOO_LONG``).
    max_bytes : int
        Largest accepted upload in bytes (``SOURCE_TOO_LARGE``); counted while the
        upload streams in, so a larger upload is cut off, never stored whole.
    result_ttl : float
        Seconds a finished task and its stems stay available.
    cleanup_interval : float
        Seconds between sweeps that delete expired tasks and files.
    job_timeout : float or None
        A job running longer is killed and ends with status ``TIMEOUT``.
    default_method : str or None
        Separation method when the request names none; None = best available.
    default_format : {"flac", "wav"}
        Format of result files (both lossless; FLAC is 24-bit, WAV 32-bit float).
    url_ttl : float
        Seconds a signed result URL stays valid (at most until its task expires).
    root : Path or None
        Folder for uploads and results; None = ``cache_dir("engine")``.
    persist : bool
        Keep tasks, runs and results in SQLite under *root* itself, so a restarted
        engine (even after SIGKILL) serves finished tasks as before and runs the
        unfinished ones again. Otherwise the engine works in a private folder under
        *root* that is deleted when it stops (the embedded engine).
    scheduler : str or None
        Address of a Dask distributed scheduler (``tcp://host:8786``) that runs the
        jobs instead of local worker processes (needs ``camb_notebook[dask]``).
    storage : str or None
        Where uploads and stems live: a shared path or an fsspec URL (``s3://…``)
        that remote workers can reach; None = *root*. An object store needs
        *scheduler* (local workers read the engine's own disk).
    access_log : bool
        Log one line per request, naming the key's name (never the key).
    public_url : str or None
        Origin put in result URLs (e.g. behind a proxy); None = the request's own.
    prewarm : bool
        Start the worker processes in the background right after start-up instead of
        on the first submission; each loads the default method and learns its pace on a
        short synthetic clip, so the first job's progress moves from the start.
    start_method : {"forkserver", "spawn"} or None
        How worker processes are created (never ``fork``: the server has threads).
    worker_nice : int
        Niceness added to worker processes so separations yield the CPU to the
        notebook kernel and the server (0 to disable).
    extra_methods : Mapping[str, str]
        More methods as ``{"name": "module:factory"}``, importable in the workers;
        ``factory()`` returns an object with the Method protocol.

    Examples
    --------
    >>> EngineConfig(workers=2, max_queue=8).workers
    2
    >>> "secret" in repr(EngineConfig(api_key="secret"))
    False
    """

    api_key: str | None = field(default=None, repr=False)
    keys_file: Path | None = None
    admin_key: str | None = field(default=None, repr=False)
    max_jobs_per_key: int | None = None
    workers: int = 1
    max_queue: int = 16
    max_duration: float = 3600.0
    min_duration: float = 0.0
    max_bytes: int = 2 * 1024**3
    result_ttl: float = 24 * 3600.0
    cleanup_interval: float = 300.0
    job_timeout: float | None = None
    default_method: str | None = None
    default_format: str = "flac"
    url_ttl: float = 6 * 3600.0
    root: Path | None = None
    persist: bool = False
    scheduler: str | None = None
    storage: str | None = None
    access_log: bool = False
    public_url: str | None = None
    prewarm: bool = False
    start_method: str | None = None
    worker_nice: int = 5
    extra_methods: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks = [
            (self.workers >= 1, f"workers={self.workers} must be at least 1"),
            (self.max_queue >= 0, f"max_queue={self.max_queue} must be 0 or more"),
            (self.max_duration > 0, f"max_duration={self.max_duration} must be positive"),
            (self.min_duration >= 0, f"min_duration={self.min_duration} must be 0 or more"),
            (self.max_bytes > 0, f"max_bytes={self.max_bytes} must be positive"),
            (self.result_ttl > 0, f"result_ttl={self.result_ttl} must be positive"),
            (self.cleanup_interval > 0, f"cleanup_interval={self.cleanup_interval} > 0"),
            (self.url_ttl > 0, f"url_ttl={self.url_ttl} must be positive"),
            (
                self.max_jobs_per_key is None or self.max_jobs_per_key >= 1,
                f"max_jobs_per_key={self.max_jobs_per_key} must be at least 1 or None",
            ),
            (
                self.storage is None
                or self.scheduler is not None
                or "://" not in self.storage
                or self.storage.startswith("file://"),
                f"storage={self.storage!r} is an object store, which local workers cannot "
                "read: add scheduler='tcp://HOST:PORT' (Dask workers) or use a shared path",
            ),
            (
                self.job_timeout is None or self.job_timeout > 0,
                f"job_timeout={self.job_timeout} must be positive or None",
            ),
            (
                self.default_format in FORMATS,
                f"default_format={self.default_format!r} must be one of {FORMATS}",
            ),
            (
                self.start_method in (None, "forkserver", "spawn"),
                f"start_method={self.start_method!r} must be 'forkserver', 'spawn' or None "
                "(fork is unsafe in a process with threads)",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigurationError(f"EngineConfig: {message}")
        if self.root is not None:
            object.__setattr__(self, "root", Path(self.root))
        if self.keys_file is not None:
            object.__setattr__(self, "keys_file", Path(self.keys_file))
        object.__setattr__(self, "extra_methods", dict(self.extra_methods))

    @property
    def mp_start_method(self) -> str:
        """The multiprocessing start method actually used."""
        return self.start_method or _default_start_method()

    @property
    def keyed(self) -> bool:
        """Whether callers need a key (a single one, a keys file or an admin key)."""
        return bool(self.api_key or self.keys_file or self.admin_key)

    def storage_root(self) -> Path:
        """The folder for uploads and results (created)."""
        if self.root is not None:
            self.root.mkdir(parents=True, exist_ok=True)
            return self.root
        from .._config import cache_dir

        return cache_dir("engine")

    def replace(self, **changes: object) -> EngineConfig:
        """Return a copy with *changes* applied (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
