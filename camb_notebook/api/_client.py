"""`Client` and `AsyncClient`: thin shells that carry out the core's effects with httpx.

``Client`` runs every effect in the calling thread. ``AsyncClient`` awaits the network and
sleeps on the event loop and runs every :class:`~._effects.Offload` (task store, folders,
copies, hashing, probing) and a download's file opening and renaming in worker threads, so the
loop never waits on the disk. Only the per-chunk reads of an upload and writes of a download
stay on the loop: each is one block, short next to the network transfer it feeds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx
from typing_extensions import Unpack

from .._exceptions import CambError, CancelledError, InputError
from ._core import Core, Source
from ._effects import Effect, Flow, Gather, Notify, Offload, Send, Sleep, Stream
from ._models import ResultURLs, SeparationResult, StemFiles, Task, TaskStatus
from ._options import (
    BatchKwargs,
    CancelEvent,
    ProgressCallback,
    SeparateKwargs,
    SeparateOptions,
    spelled_out,
)
from ._retry import RetryPolicy
from ._settings import DEFAULT_TIMEOUT, Settings, require_settings
from ._store import TaskStore
from ._upload import UploadProgress

__all__ = ["AsyncClient", "BatchProgress", "Client"]

T = TypeVar("T")
#: ``separate_many``'s callback: (the path, its latest status).
BatchProgress = Callable[[Path, TaskStatus], Any]


class _BaseClient:
    """Configuration shared by both clients (see :class:`Client` for the parameters)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        settings: Settings | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        store: TaskStore | Literal[False] | None = None,
        retry: RetryPolicy | None = None,
        poll_interval: float = 1.0,
        poll_max_interval: float = 10.0,
        not_found_grace: float = 30.0,
    ) -> None:
        if settings is None:
            settings = require_settings(api_key, base_url)
        elif api_key is not None or base_url is not None:
            raise InputError(
                "pass either settings= or api_key=/base_url=, not both", parameter="settings"
            )
        self._core = Core(
            settings,
            retry=retry or RetryPolicy(),
            store=(TaskStore() if store is None else store) or None,
            poll_interval=poll_interval,
            poll_max_interval=poll_max_interval,
            not_found_grace=not_found_grace,
        )
        self._timeout = timeout

    @property
    def base_url(self) -> str:
        """The service's base URL (paths are joined under it)."""
        return self._core.base_url

    @property
    def store(self) -> TaskStore | None:
        """The task store recording this client's submissions (None when disabled)."""
        return self._core.store

    @property
    def origin(self) -> str:
        """``"cloud"`` (CAMB.AI), ``"engine"`` (the embedded local engine) or ``"custom"``."""
        return self._core.settings.origin

    def __repr__(self) -> str:
        key = "'***'" if self._core.settings.api_key else "None"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={key})"


class Client(_BaseClient):
    """Blocking client for CAMB.AI's audio separation API (and the local engine).

    Parameters
    ----------
    api_key : str, optional
        Defaults to ``$CAMB_API_KEY``. Never shown: reprs, logs and errors print ``***``.
    base_url : str, optional
        Defaults to ``$CAMB_BASE_URL``, else CAMB.AI's cloud when a key is set. With neither,
        there is no service: use :func:`camb_notebook.connect`, which starts the embedded
        local engine.
    settings : Settings, optional
        An already-resolved service (what :func:`camb_notebook.connect` passes) instead of
        *api_key* and *base_url*.
    timeout : float or httpx.Timeout
        Per-operation network timeouts (default: 10 s to connect, 60 s per read/write).
    transport : httpx.BaseTransport, optional
        Swap the network layer (tests, proxies, an in-process ASGI app).
    store : TaskStore or False, optional
        Where submissions are recorded (default: the user cache); False records nothing.
    retry : RetryPolicy, optional
        Retry attempts and backoff (default: 5 attempts, 1 s doubling to 60 s, with jitter).
    poll_interval, poll_max_interval : float
        First and longest pause between status polls, in seconds.
    not_found_grace : float
        Keep polling through a 404 for this many seconds after submitting.

    Examples
    --------
    >>> with Client(base_url="http://127.0.0.1:8750/apis") as client:  # doctest: +SKIP
    ...     result = client.separate("song.mp3")
    >>> result.foreground  # doctest: +SKIP
    PosixPath('.../foreground.flac')
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        settings: Settings | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        store: TaskStore | Literal[False] | None = None,
        retry: RetryPolicy | None = None,
        poll_interval: float = 1.0,
        poll_max_interval: float = 10.0,
        not_found_grace: float = 30.0,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            settings=settings,
            timeout=timeout,
            store=store,
            retry=retry,
            poll_interval=poll_interval,
            poll_max_interval=poll_max_interval,
            not_found_grace=not_found_grace,
        )
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    # -- running the core's flows -----------------------------------------------------------

    def _run(self, flow: Flow[T]) -> T:
        value: Any = None
        error: Exception | None = None
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            value, error = None, None
            try:
                value = self._do(effect)
            except Exception as exc:  # handed to the flow, which decides
                error = exc
            except BaseException:
                flow.close()
                raise

    def _do(self, effect: Effect) -> Any:
        if isinstance(effect, Send):
            return self._http.send(effect.request)
        if isinstance(effect, Stream):
            return self._stream(effect)
        if isinstance(effect, Sleep):
            return _sleep_sync(effect.seconds, effect.cancel)
        if isinstance(effect, Gather):
            with ThreadPoolExecutor(max_workers=len(effect.flows)) as pool:
                futures = [pool.submit(self._run, f) for f in effect.flows]
                return [f.result() for f in futures]
        if isinstance(effect, Notify):
            return effect.callback(effect.value)
        if isinstance(effect, Offload):
            return effect.fn()
        raise TypeError(f"unknown effect {effect!r}")

    def _stream(self, effect: Stream) -> httpx.Response:
        sink = effect.sink
        # Result files may sit behind a redirect (CDN); safe to follow, they carry no key.
        response = self._http.send(effect.request, stream=True, follow_redirects=True)
        try:
            if response.status_code != 200:
                response.read()
                return response
            sink.begin()
            for chunk in response.iter_bytes():
                sink.write(chunk)
            sink.finish()
        except BaseException:
            sink.abort()
            raise
        finally:
            response.close()
        return response

    # -- public API -------------------------------------------------------------------------

    def submit(
        self,
        source: Source,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
        *,
        method: str | None = None,
        filename: str | None = None,
        on_upload: UploadProgress | None = None,
    ) -> Task:
        """Upload a clip and start its separation; returns at once with the :class:`Task`.

        Parameters
        ----------
        source : path, bytes or binary file object
            Streamed from disk in chunks; a 1 GB file is never held in memory.
        project_name, project_description : str, optional
        folder_id : int, optional
            CAMB.AI's optional form fields, sent only when given.
        method : str, optional
            Separation method (the local engine's extension; sent only when given).
        filename : str, optional
            Name to send instead of the file's own.
        on_upload : callable(sent, total), optional
            Called as the body goes out.

        Raises
        ------
        SubmitUncertainError
            The connection broke after the whole file was sent: not re-sent (no double charge).

        Examples
        --------
        >>> task = client.submit("song.wav", project_name="demo")  # doctest: +SKIP
        """
        return self._run(
            self._core.submit(
                source,
                filename=filename,
                project_name=project_name,
                project_description=project_description,
                folder_id=folder_id,
                method=method,
                on_upload=on_upload,
            )
        )

    def status(self, task: Task | str) -> TaskStatus:
        """Poll the task once.

        Examples
        --------
        >>> client.status(task).status  # doctest: +SKIP
        'PENDING'
        """
        return self._run(self._core.status(_task_id(task)))

    def cancel(self, task: Task | str) -> TaskStatus | None:
        """Ask the service to stop a task; None when it has no cancel (CAMB.AI's cloud).

        The local engine (and ``camb-notebook serve``) drops the task from its queue or stops
        its worker and answers the task's status (``ERROR`` with ``exception_reason``
        ``"CANCELLED"``, or what it had already reached); the task store then records it as
        ``CANCELLED``. CAMB.AI's cloud cannot stop a task: None, and it may still run there.

        Examples
        --------
        >>> client.cancel(task).exception_reason  # doctest: +SKIP
        'CANCELLED'
        """
        return self._run(self._core.cancel(_task_id(task)))

    def result(self, run_id: int) -> ResultURLs:
        """Fresh download URLs of a finished run (the old ones may have expired).

        Examples
        --------
        >>> client.result(status.run_id).foreground_url  # doctest: +SKIP
        """
        return self._run(self._core.result(run_id))

    def results(self, run_ids: Iterable[int]) -> dict[int, ResultURLs]:
        """Download URLs of several runs in one request, keyed by run id."""
        return self._run(self._core.results(list(run_ids)))

    def wait(
        self,
        task: Task | str,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> TaskStatus:
        """Poll until the task ends; return its SUCCESS status or raise why it did not.

        Parameters
        ----------
        timeout : float, optional
            Give up after this many seconds with WaitTimeoutError (the task keeps running).
        on_progress : callable(TaskStatus), optional
            Called after every poll (``status.progress`` is set when the service reports it).
        cancel : threading.Event, optional
            Set it (from another thread) to stop waiting with CancelledError.

        Raises
        ------
        TaskFailedError, PaymentRequiredError, WaitTimeoutError, CancelledError

        Examples
        --------
        >>> status = client.wait(task, timeout=600)  # doctest: +SKIP
        """
        return self._run(
            self._core.wait(task, timeout=timeout, on_progress=on_progress, cancel=cancel)
        )

    def download(
        self,
        source: TaskStatus | ResultURLs,
        out_dir: str | os.PathLike[str],
        *,
        cancel: threading.Event | None = None,
    ) -> StemFiles:
        """Stream both stems into *out_dir* (in parallel); name them after their format.

        Raises
        ------
        ResultExpiredError
            A URL no longer serves its file; ``client.result(run_id)`` gives fresh ones.

        Examples
        --------
        >>> client.download(status, "out/song")  # doctest: +SKIP
        StemFiles(foreground=PosixPath('out/song/foreground.flac'), ...)
        """
        return self._run(self._core.download(source, out_dir, cancel))

    def attach(self, task_id: str) -> Task:
        """Re-attach to a task submitted earlier (e.g. before a kernel restart).

        Examples
        --------
        >>> for record in client.store.unfinished(client.base_url):  # doctest: +SKIP
        ...     client.wait(client.attach(record.task_id))
        """
        return self._run(self._core.attach(task_id))

    @spelled_out(SeparateKwargs)
    def separate(
        self, path: str | os.PathLike[str], **options: Unpack[SeparateKwargs]
    ) -> SeparationResult:
        """Validate, upload, wait and download: the stems of *path* on local disk.

        An identical file already separated on this service is reused from the task store
        (unless ``reuse=False``); a pending one is re-attached instead of uploaded again.

        Parameters
        ----------
        path : str or Path
            Audio file, checked with :func:`camb_notebook.audio.probe` first.
        **options
            ``out_dir``, ``reuse``, ``on_progress``, ``on_upload``, ``on_validated``,
            ``timeout``, ``cancel``, ``limits``, ``project_name``, ``project_description``,
            ``folder_id``, ``method``: documented in :class:`SeparateOptions`.

        Returns
        -------
        SeparationResult

        Examples
        --------
        >>> result = client.separate("song.flac", on_progress=print)  # doctest: +SKIP
        >>> result.stems().levels()  # doctest: +SKIP
        """
        return self._run(self._core.separate(path, SeparateOptions.from_kwargs(options)))

    @spelled_out(BatchKwargs)
    def separate_many(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        concurrency: int = 4,
        on_progress: BatchProgress | None = None,
        return_exceptions: bool = False,
        **options: Unpack[BatchKwargs],
    ) -> list[SeparationResult | CambError]:
        """Separate many files, at most *concurrency* at a time (threads).

        Parameters
        ----------
        paths : iterable of paths
        concurrency : int
            Clips in flight at once.
        on_progress : callable(path, TaskStatus), optional
        return_exceptions : bool
            False (default): the first failure stops the rest (tasks already submitted keep
            running and stay in the task store) and is raised. True: failures are returned
            in place of their results.
        **options
            For every clip, as for :meth:`separate` (see :class:`SeparateOptions`); a
            ``cancel`` event stops them all.

        Examples
        --------
        >>> results = client.separate_many(Path("clips").glob("*.wav"))  # doctest: +SKIP
        """
        items = [Path(p) for p in paths]
        _check_concurrency(concurrency)
        shared = SeparateOptions.from_kwargs(options)
        stop = threading.Event()  # set by the first failure
        cancel = stop if shared.cancel is None else _EitherSet(stop, shared.cancel)

        def one(path: Path) -> SeparationResult:
            progress = _bind_progress(on_progress, path)
            each = dataclasses.replace(shared, on_progress=progress, cancel=cancel)
            return self._run(self._core.separate(path, each))

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = [pool.submit(one, p) for p in items]
            if not return_exceptions:
                wait_futures(futures, return_when=FIRST_EXCEPTION)
                if any(f.done() and not f.cancelled() and f.exception() for f in futures):
                    stop.set()  # running ones stop waiting; their tasks stay in the store
                    for f in futures:
                        f.cancel()
        errors = [e for f in futures if not f.cancelled() and (e := f.exception()) is not None]
        if errors and not return_exceptions:
            # The failure that started it, not the waits it cancelled.
            raise next((e for e in errors if not isinstance(e, CancelledError)), errors[0])
        out: list[SeparationResult | CambError] = []
        for f in futures:
            exc = f.exception()
            if exc is None:
                out.append(f.result())
            elif isinstance(exc, CambError):
                out.append(exc)
            else:
                raise exc
        return out

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_BaseClient):
    """The asyncio twin of :class:`Client`: same parameters, same methods, awaitable.

    Cancel a ``wait`` or ``separate`` by cancelling its asyncio task (or with an
    ``asyncio.Event`` / ``threading.Event`` as ``cancel=``).

    Examples
    --------
    >>> async with AsyncClient(api_key="sk-...") as client:  # doctest: +SKIP
    ...     result = await client.separate("song.mp3")
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        settings: Settings | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        store: TaskStore | Literal[False] | None = None,
        retry: RetryPolicy | None = None,
        poll_interval: float = 1.0,
        poll_max_interval: float = 10.0,
        not_found_grace: float = 30.0,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            settings=settings,
            timeout=timeout,
            store=store,
            retry=retry,
            poll_interval=poll_interval,
            poll_max_interval=poll_max_interval,
            not_found_grace=not_found_grace,
        )
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)

    async def _run(self, flow: Flow[T]) -> T:
        value: Any = None
        error: Exception | None = None
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            value, error = None, None
            try:
                value = await self._do(effect)
            except Exception as exc:
                error = exc
            except BaseException:
                flow.close()
                raise

    async def _do(self, effect: Effect) -> Any:
        if isinstance(effect, Send):
            return await self._http.send(effect.request)
        if isinstance(effect, Stream):
            return await self._stream(effect)
        if isinstance(effect, Sleep):
            return await _sleep_async(effect.seconds, effect.cancel)
        if isinstance(effect, Gather):
            return await _gather_or_cancel([self._run(f) for f in effect.flows])
        if isinstance(effect, Notify):
            outcome = effect.callback(effect.value)
            if inspect.isawaitable(outcome):
                outcome = await outcome
            return outcome
        if isinstance(effect, Offload):
            return await asyncio.to_thread(effect.fn)
        raise TypeError(f"unknown effect {effect!r}")

    async def _stream(self, effect: Stream) -> httpx.Response:
        sink = effect.sink
        response = await self._http.send(effect.request, stream=True, follow_redirects=True)
        try:
            if response.status_code != 200:
                await response.aread()
                return response
            await asyncio.to_thread(sink.begin)  # mkdir and open: off the loop
            async for chunk in response.aiter_bytes():
                sink.write(chunk)  # one block into the open file (see the module docstring)
            await asyncio.to_thread(sink.finish)  # close, sniff, rename
        except BaseException:
            await _to_thread_to_the_end(sink.abort)  # no part file, even when cancelled
            raise
        finally:
            await response.aclose()
        return response

    async def submit(
        self,
        source: Source,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
        *,
        method: str | None = None,
        filename: str | None = None,
        on_upload: UploadProgress | None = None,
    ) -> Task:
        """See :meth:`Client.submit`."""
        return await self._run(
            self._core.submit(
                source,
                filename=filename,
                project_name=project_name,
                project_description=project_description,
                folder_id=folder_id,
                method=method,
                on_upload=on_upload,
            )
        )

    async def status(self, task: Task | str) -> TaskStatus:
        """See :meth:`Client.status`."""
        return await self._run(self._core.status(_task_id(task)))

    async def cancel(self, task: Task | str) -> TaskStatus | None:
        """See :meth:`Client.cancel`."""
        return await self._run(self._core.cancel(_task_id(task)))

    async def result(self, run_id: int) -> ResultURLs:
        """See :meth:`Client.result`."""
        return await self._run(self._core.result(run_id))

    async def results(self, run_ids: Iterable[int]) -> dict[int, ResultURLs]:
        """See :meth:`Client.results`."""
        return await self._run(self._core.results(list(run_ids)))

    async def wait(
        self,
        task: Task | str,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: asyncio.Event | threading.Event | None = None,
    ) -> TaskStatus:
        """See :meth:`Client.wait`; *on_progress* may also be a coroutine function."""
        return await self._run(
            self._core.wait(task, timeout=timeout, on_progress=on_progress, cancel=cancel)
        )

    async def download(
        self,
        source: TaskStatus | ResultURLs,
        out_dir: str | os.PathLike[str],
        *,
        cancel: asyncio.Event | threading.Event | None = None,
    ) -> StemFiles:
        """See :meth:`Client.download`."""
        return await self._run(self._core.download(source, out_dir, cancel))

    async def attach(self, task_id: str) -> Task:
        """See :meth:`Client.attach`."""
        return await self._run(self._core.attach(task_id))

    @spelled_out(SeparateKwargs)
    async def separate(
        self, path: str | os.PathLike[str], **options: Unpack[SeparateKwargs]
    ) -> SeparationResult:
        """See :meth:`Client.separate`; the options are documented in :class:`SeparateOptions`.

        Callbacks may be coroutine functions, and ``cancel`` may be an ``asyncio.Event``.
        """
        return await self._run(self._core.separate(path, SeparateOptions.from_kwargs(options)))

    @spelled_out(BatchKwargs)
    async def separate_many(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        concurrency: int = 4,
        on_progress: BatchProgress | None = None,
        return_exceptions: bool = False,
        **options: Unpack[BatchKwargs],
    ) -> list[SeparationResult | CambError]:
        """See :meth:`Client.separate_many` (bounded by a semaphore instead of threads)."""
        items = [Path(p) for p in paths]
        _check_concurrency(concurrency)
        shared = SeparateOptions.from_kwargs(options)
        gate = asyncio.Semaphore(concurrency)

        async def one(path: Path) -> SeparationResult | CambError:
            async with gate:
                each = dataclasses.replace(shared, on_progress=_bind_progress(on_progress, path))
                try:
                    return await self._run(self._core.separate(path, each))
                except CambError as exc:
                    if return_exceptions:
                        return exc
                    raise

        return await _gather_or_cancel([one(p) for p in items])

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


# -- helpers -------------------------------------------------------------------------------


def _task_id(task: Task | str) -> str:
    return task.task_id if isinstance(task, Task) else str(task)


class _EitherSet:
    """An event-like that is set when either of two events is."""

    def __init__(self, a: CancelEvent, b: CancelEvent) -> None:
        self._events = (a, b)

    def is_set(self) -> bool:
        return any(e.is_set() for e in self._events)


def _check_concurrency(concurrency: int) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency={concurrency!r} must be a positive integer")


def _bind_progress(callback: BatchProgress | None, path: Path) -> ProgressCallback | None:
    if callback is None:
        return None
    return lambda status: callback(path, status)


def _sleep_sync(seconds: float, cancel: Any) -> bool:
    """Sleep; True when *cancel* was set before the time was up."""
    if cancel is None:
        time.sleep(max(seconds, 0.0))
        return False
    if isinstance(cancel, threading.Event):
        return cancel.wait(max(seconds, 0.0))
    end = time.monotonic() + seconds
    while not cancel.is_set():
        left = end - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(left, 0.05))
    return True


async def _sleep_async(seconds: float, cancel: Any) -> bool:
    if cancel is None:
        await asyncio.sleep(max(seconds, 0.0))
        return False
    if isinstance(cancel, asyncio.Event):
        try:
            await asyncio.wait_for(cancel.wait(), max(seconds, 0.0))
        except asyncio.TimeoutError:
            return False
        return True
    end = time.monotonic() + seconds
    while not cancel.is_set():
        left = end - time.monotonic()
        if left <= 0:
            return False
        await asyncio.sleep(min(left, 0.05))
    return True


async def _to_thread_to_the_end(fn: Callable[[], Any]) -> None:
    """Run the clean-up *fn* in a worker thread and wait until it is done, cancelled or not.

    A plain ``await asyncio.to_thread(fn)`` that is cancelled before a thread picks the job up
    drops the job, so the clean-up would never happen. A cancellation that arrives meanwhile is
    raised once *fn* has finished.
    """
    job = asyncio.ensure_future(asyncio.to_thread(fn))
    cancelled: asyncio.CancelledError | None = None
    while not job.done():
        try:
            await asyncio.shield(job)
        except asyncio.CancelledError as exc:
            cancelled = exc
    job.result()  # its own error, if it failed
    if cancelled is not None:
        raise cancelled


async def _gather_or_cancel(aws: Sequence[Awaitable[T]]) -> list[T]:
    """Like ``asyncio.gather`` but the first failure cancels the others (a TaskGroup in 3.10)."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
