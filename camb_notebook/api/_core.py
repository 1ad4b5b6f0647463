"""The client's logic without I/O: requests, retries, polling, downloads, reuse.

Every operation is a generator yielding :mod:`._effects`; ``Client`` and ``AsyncClient`` carry
them out, so both clients behave identically. Nothing here touches a socket, sleeps or waits
on the disk itself: requests are ``Send`` / ``Stream`` effects, pauses ``Sleep``, and every
piece of local work (task-store reads and writes, making folders, copying stems, hashing and
probing a file) is handed over as ``Offload(fn)``, which ``Client`` runs inline and
``AsyncClient`` in a worker thread, off the event loop.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from .._config import cache_dir
from .._exceptions import (
    APIError,
    CambError,
    CancelledError,
    InputError,
    NetworkError,
    NotFoundError,
    ResultExpiredError,
    SubmitUncertainError,
    WaitTimeoutError,
)
from .._version import __version__
from ._effects import Effect, Flow, Gather, Notify, Offload, Send, Sleep, Stream
from ._errors import error_from_response, response_body, task_failed_error
from ._models import ResultURLs, SeparationResult, StemFiles, Task, TaskStatus
from ._options import ProgressCallback, SeparateOptions
from ._parse import MalformedAnswer, parse_json, parse_result, parse_results, parse_status
from ._retry import RETRY_STATUSES, RetryPolicy, parse_retry_after, transport_error_is_safe
from ._settings import Settings
from ._sink import StemSink, copy_into
from ._store import CANCELLED, UNCERTAIN, TaskRecord, TaskStore
from ._upload import MultipartBody, UploadProgress, UploadSource

if TYPE_CHECKING:  # pragma: no cover
    from ..audio import AudioInfo, Limits

__all__ = ["Core", "Source"]

log = logging.getLogger("camb_notebook.api")

T = TypeVar("T")

#: What ``submit`` uploads: a path, the bytes, or a binary file object.
Source = str | os.PathLike[str] | bytes | BinaryIO

USER_AGENT = f"camb-notebook/{__version__} httpx/{httpx.__version__}"
FILE_FIELD = "media_file"
RESULTS_PATH = "audio-separation-results"


def origin(url: str | httpx.URL) -> str:
    """``scheme://host[:port]`` of *url*: what log lines and messages show (no query, no path).

    Pre-signed URLs carry their signature in the query, so it never goes into a log.

    Examples
    --------
    >>> origin("https://bucket.example/run/7/fg.flac?X-Amz-Signature=abc")
    'https://bucket.example'
    """
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    return origin(url) + parts.path


class Core:
    """Shared state and operations of :class:`Client` and :class:`AsyncClient`.

    Parameters
    ----------
    settings : Settings
        Service and key.
    retry : RetryPolicy
    store : TaskStore or None
        Where submissions are recorded; None keeps nothing.
    poll_interval, poll_max_interval : float
        First and longest pause between status polls (seconds); pauses grow 1.5× per poll.
    not_found_grace : float
        Seconds after submission during which a 404 on the status call is taken as "the
        service has not registered the task yet" and polling goes on.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        retry: RetryPolicy,
        store: TaskStore | None,
        poll_interval: float = 1.0,
        poll_max_interval: float = 10.0,
        not_found_grace: float = 30.0,
    ) -> None:
        if poll_interval <= 0 or poll_max_interval < poll_interval:
            raise InputError(
                f"poll_interval={poll_interval} must be > 0 and at most "
                f"poll_max_interval={poll_max_interval}"
            )
        self.settings = settings
        self.base_url = settings.base_url
        #: The service's name in the task store (its URL, or e.g. "local-engine").
        self.store_key = settings.store_key
        self.retry = retry
        self.store = store
        self.poll_interval = poll_interval
        self.poll_max_interval = poll_max_interval
        self.not_found_grace = not_found_grace

    # -- requests ---------------------------------------------------------------------------

    def api_request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: MultipartBody | None = None,
    ) -> httpx.Request:
        """A request to ``<base_url>/<path>`` carrying the key (the only place it is added)."""
        headers = {"accept": "application/json", "user-agent": USER_AGENT}
        if self.settings.api_key:
            headers["x-api-key"] = self.settings.api_key
        url = f"{self.base_url}/{path}"
        if body is None:
            return httpx.Request(method, url, headers=headers, json=json)
        headers.update(body.headers)
        # With stream= httpx adds no default headers, so Host is set here.
        headers["host"] = httpx.URL(url).netloc.decode("ascii")
        return httpx.Request(method, url, headers=headers, stream=body)

    def call(
        self,
        what: str,
        make: Callable[[], tuple[Effect, MultipartBody | None]],
        accept: Callable[[httpx.Response], T],
        *,
        idempotent: bool,
        cancel: Any = None,
        uncertain: Callable[[Exception], Flow[CambError]] | None = None,
        reject: Callable[[httpx.Response, str, int], CambError] = error_from_response,
    ) -> Flow[T]:
        """Send a request (built afresh by *make* for every attempt) until it succeeds.

        Retries 408/409/429/5xx answers and transport failures that cannot have created
        anything on the server; the flow *uncertain* builds the error for the rest (non-idempotent
        requests only). *accept* turns a 2xx answer into the result.
        """
        policy = self.retry
        attempt = 0
        while True:
            attempt += 1
            effect, body = make()
            url = effect.request.url  # type: ignore[union-attr]
            last = attempt >= policy.max_attempts
            hint: float | None = None
            try:
                response: httpx.Response = yield effect
            except httpx.TransportError as exc:
                sent = body is None or body.complete
                if not transport_error_is_safe(exc, idempotent=idempotent, body_sent=sent):
                    assert uncertain is not None, "non-idempotent calls need `uncertain`"
                    raise (yield from uncertain(exc)) from exc
                if last or isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
                    raise NetworkError(
                        f"{what}: could not reach {origin(url)} after {attempt} attempt(s) "
                        f"({type(exc).__name__}: {exc or 'no detail'}). Check the network and "
                        "base_url, then try again; nothing was created by this request.",
                        attempts=attempt,
                    ) from exc
                problem = f"{type(exc).__name__}: {exc}"
            else:
                code = response.status_code
                if 200 <= code < 300:
                    try:
                        return accept(response)
                    except MalformedAnswer as exc:
                        if not idempotent and uncertain is not None:
                            raise (yield from uncertain(exc)) from exc
                        if last or not idempotent:
                            raise APIError(
                                f"{what}: {origin(url)} answered {code} with a body this client "
                                f"cannot read ({exc}) after {attempt} attempt(s). Try again "
                                "later; if it persists, check base_url points at the CAMB.AI API.",
                                status_code=code,
                                body=response_body(response),
                            ) from exc
                        problem = f"unreadable {code} answer ({exc})"
                elif code in RETRY_STATUSES and not last:
                    hint = parse_retry_after(response.headers)
                    if hint is not None and hint > policy.max_retry_after:
                        raise reject(response, what, attempt)
                    problem = f"{code} {response.reason_phrase}"
                else:
                    raise reject(response, what, attempt)
            delay = policy.delay(attempt, hint)
            log.warning(
                "%s: %s; retrying in %.2f s (attempt %d of %d)",
                what,
                problem,
                delay,
                attempt + 1,
                policy.max_attempts,
            )
            if (yield Sleep(delay, cancel)):
                raise CancelledError(f"{what}: cancelled while waiting to retry")

    # -- local work, through the interpreter ------------------------------------------------

    def in_store(self, op: Callable[[TaskStore], T]) -> Flow[T | None]:
        """Run ``op(store)`` as an :class:`Offload` (off the event loop); None without a store."""
        store = self.store
        if store is None:
            return None
        return (yield Offload(lambda: op(store)))

    def known_task(self, task: Task | str) -> Flow[Task]:
        """*task*, or a Task for the bare id with its details (submission time …) from the store."""
        if isinstance(task, Task):
            return task
        record = yield from self.in_store(lambda s: s.get(self.store_key, str(task)))
        return self.task_of(record) if record is not None else Task(str(task), self.base_url)

    def _remember(self, status: TaskStatus) -> Flow[None]:
        """Store the latest status of a known task."""
        yield from self.in_store(lambda s: s.update_status(self.store_key, status))

    # -- the contract -----------------------------------------------------------------------

    def submit(
        self,
        source: Source | UploadSource,
        *,
        filename: str | None = None,
        project_name: str | None = None,
        project_description: str | None = None,
        folder_id: int | None = None,
        method: str | None = None,
        on_upload: UploadProgress | None = None,
    ) -> Flow[Task]:
        """Upload *source* as ``media_file``; return the :class:`Task` (recorded in the store)."""
        if isinstance(source, UploadSource):
            upload = source
        else:  # reading a path's head or spooling a pipe waits on the disk
            upload = yield Offload(lambda: UploadSource(source, filename))
        try:
            return (
                yield from self._submit(
                    upload,
                    project_name=project_name,
                    project_description=project_description,
                    folder_id=folder_id,
                    method=method,
                    on_upload=on_upload,
                )
            )
        finally:
            if upload is not source:
                upload.close()

    def _submit(
        self,
        source: UploadSource,
        *,
        project_name: str | None,
        project_description: str | None,
        folder_id: int | None,
        method: str | None,
        on_upload: UploadProgress | None,
    ) -> Flow[Task]:
        fields: list[tuple[str, str]] = []
        if project_name is not None:
            fields.append(("project_name", str(project_name)))
        if project_description is not None:
            fields.append(("project_description", str(project_description)))
        if folder_id is not None:
            if isinstance(folder_id, bool) or not isinstance(folder_id, int):
                raise InputError(f"folder_id={folder_id!r} must be an integer folder id")
            fields.append(("folder_id", str(folder_id)))
        if method is not None:
            fields.append(("method", str(method)))
        content_hash: str = yield Offload(lambda: source.content_hash)
        what = f"submit {source.filename}"
        log.info("%s (%d bytes) to %s", what, source.size, self.base_url)

        def make() -> tuple[Effect, MultipartBody]:
            body = MultipartBody(fields, FILE_FIELD, source, on_upload)
            return Send(self.api_request("POST", "audio-separation", body=body)), body

        def accept(response: httpx.Response) -> str:
            data = parse_json(response)
            task_id = data.get("task_id") if isinstance(data, dict) else None
            if task_id in (None, ""):
                raise MalformedAnswer(f"no task_id in {response.content[:200]!r}")
            return str(task_id)

        def uncertain(exc: Exception) -> Flow[CambError]:
            record = yield from self.in_store(
                lambda s: s.record_uncertain(
                    self.store_key, content_hash, source.filename, source.size, method
                )
            )
            return SubmitUncertainError(
                uncertain_message(source.filename, self.base_url, exc, record),
                content_hash=content_hash,
                filename=source.filename,
                record_id=record,
            )

        task_id = yield from self.call(what, make, accept, idempotent=False, uncertain=uncertain)
        task = Task(task_id, self.base_url, source.filename, content_hash, time.time(), method)
        stored = replace(task, base_url=self.store_key)
        yield from self.in_store(lambda s: s.record_submitted(stored, source.size))
        log.info("%s: accepted as task %s", what, task_id)
        return task

    def status(self, task_id: str, cancel: Any = None) -> Flow[TaskStatus]:
        """One status poll of *task_id*."""
        path = f"audio-separation/{quote(str(task_id), safe='')}"

        def accept(response: httpx.Response) -> TaskStatus:
            hint = parse_retry_after(response.headers)
            return parse_status(parse_json(response), str(task_id), hint)

        return (
            yield from self.call(
                f"status of task {task_id}",
                lambda: (Send(self.api_request("GET", path)), None),
                accept,
                idempotent=True,
                cancel=cancel,
            )
        )

    def result(self, run_id: int) -> Flow[ResultURLs]:
        """Fresh result URLs of a finished run."""
        if isinstance(run_id, bool) or not isinstance(run_id, int):
            raise InputError(f"run_id={run_id!r} must be an integer (TaskStatus.run_id)")
        return (
            yield from self.call(
                f"result of run {run_id}",
                lambda: (Send(self.api_request("GET", f"audio-separation-result/{run_id}")), None),
                lambda response: parse_result(parse_json(response), run_id),
                idempotent=True,
            )
        )

    def results(self, run_ids: list[int]) -> Flow[dict[int, ResultURLs]]:
        """Result URLs of several runs in one request."""
        ids = list(run_ids)
        bad = [r for r in ids if isinstance(r, bool) or not isinstance(r, int)]
        if bad:
            raise InputError(f"run_ids contains {bad[:3]!r}: every run id must be an integer")
        body = {"run_ids": ids}
        return (
            yield from self.call(
                f"results of {len(ids)} runs",
                lambda: (Send(self.api_request("POST", RESULTS_PATH, json=body)), None),
                lambda response: parse_results(parse_json(response)),
                idempotent=True,  # a lookup: repeating it changes nothing
            )
        )

    def wait(
        self,
        task: Task | str,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: Any = None,
    ) -> Flow[TaskStatus]:
        """Poll until the task is terminal; return the SUCCESS status or raise why not."""
        task = yield from self.known_task(task)
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = self.poll_interval
        while True:
            if cancel is not None and cancel.is_set():
                raise cancelled_wait(task)
            status: TaskStatus | None = None
            try:
                status = yield from self.status(task.task_id, cancel)
            except NotFoundError:
                age = time.time() - task.submitted_at
                if age > self.not_found_grace:
                    raise
                log.info("task %s not visible yet (404, %.1f s after submit)", task.task_id, age)
            hint = None
            if status is not None:
                log.debug("task %s: %s progress=%s", task.task_id, status.status, status.progress)
                yield from self._remember(status)
                if on_progress is not None:
                    yield Notify(on_progress, status)
                if status.done:
                    if status.succeeded:
                        return status
                    raise task_failed_error(status)
                hint = status.retry_after
            delay = max(interval, hint or 0.0)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeoutError(
                        f"task {task.task_id} is still PENDING after the timeout of {timeout} s; "
                        "it goes on running at the service. Wait again with "
                        f"client.wait({task.task_id!r}) (a longer timeout=) or later with "
                        f"client.attach({task.task_id!r}).",
                        task_id=task.task_id,
                    )
                delay = min(delay, left)
            if (yield Sleep(delay, cancel)):
                raise cancelled_wait(task)
            interval = min(interval * 1.5, self.poll_max_interval)

    def download(
        self, source: TaskStatus | ResultURLs, out_dir: str | os.PathLike[str], cancel: Any = None
    ) -> Flow[StemFiles]:
        """Stream both stems into *out_dir* at once; return their paths.

        Where they went is recorded in the task store (by task id, else run id), however the
        task was reached — ``separate``, ``attach`` + ``wait``, ``result`` — so a later
        ``separate`` of the same file on this service reuses them instead of paying again.
        """
        if isinstance(source, TaskStatus):
            if not source.succeeded:
                raise InputError(
                    f"task {source.task_id} has status {source.status}; only a SUCCESS has stems "
                    "to download (client.wait(task) first)"
                )
            urls = source.urls
            if urls is None:
                if source.run_id is None:
                    raise APIError(
                        f"task {source.task_id} succeeded, but the service sent neither result "
                        "URLs nor a run_id; ask CAMB.AI support about this task id",
                        body=source.raw,
                    )
                urls = yield from self.result(source.run_id)
        else:
            urls = source
        out = Path(out_dir)
        fg, bg = yield Gather(
            [
                self._download_stem(urls.foreground_url, out, "foreground", urls.run_id, cancel),
                self._download_stem(urls.background_url, out, "background", urls.run_id, cancel),
            ]
        )
        task_id = source.task_id if isinstance(source, TaskStatus) else None
        run_id = source.run_id if isinstance(source, TaskStatus) else urls.run_id
        yield from self.in_store(
            lambda s: s.record_stems(self.store_key, fg, bg, task_id=task_id, run_id=run_id)
        )
        return StemFiles(fg, bg)

    def _download_stem(
        self, url: str, out: Path, name: str, run_id: int | None, cancel: Any
    ) -> Flow[Path]:
        # Pre-signed URLs live on another host: the request never carries the API key.
        what = f"download the {name} stem from {_safe_url(url)}"
        sink: StemSink | None = None

        def make() -> tuple[Effect, None]:
            nonlocal sink
            sink = StemSink(out, name, url, cancel)  # one per attempt; the shell fills it
            request = httpx.Request("GET", url, headers={"user-agent": USER_AGENT})
            return Stream(request, sink), None

        def accept(response: httpx.Response) -> Path:
            if sink is None or sink.path is None:  # a 2xx other than 200 carries no file
                raise MalformedAnswer(f"{response.status_code} answer without the file")
            return sink.path

        def reject(response: httpx.Response, what: str, attempts: int) -> CambError:
            if response.status_code in (403, 404, 410):
                fresh = (
                    f"client.result({run_id})"
                    if run_id is not None
                    else "client.status(task_id) (or client.result(run_id))"
                )
                return ResultExpiredError(
                    f"the {name} stem's URL no longer serves the file ({response.status_code} "
                    f"from {origin(url)}): result URLs are pre-signed and expire. Fetch fresh "
                    f"ones with {fresh} and download again (separate() does this once by itself).",
                    url=_safe_url(url),
                    status_code=response.status_code,
                    run_id=run_id,
                )
            return error_from_response(response, what, attempts)

        path: Path = yield from self.call(
            what, make, accept, idempotent=True, cancel=cancel, reject=reject
        )
        log.info("saved %s stem (%d bytes) to %s", name, sink.bytes_written if sink else 0, path)
        return path

    def attach(self, task_id: str) -> Flow[Task]:
        """A :class:`Task` for an existing *task_id*, checked with one status call."""
        record = yield from self.in_store(lambda s: s.get(self.store_key, task_id))
        task = self.task_of(record) if record else Task(str(task_id), self.base_url)
        try:
            status = yield from self.status(task.task_id)
        except NotFoundError:
            if record is None or time.time() - task.submitted_at > self.not_found_grace:
                raise
            return task

        def remember(store: TaskStore) -> None:
            if record is None:
                store.record_submitted(replace(task, base_url=self.store_key))
            store.update_status(self.store_key, status)

        yield from self.in_store(remember)
        return task

    def cancel(self, task_id: str) -> Flow[TaskStatus | None]:
        """Ask the service to stop *task_id*; None when it cannot (CAMB.AI's cloud has no cancel).

        The local engine answers ``DELETE audio-separation/{task_id}`` (an engine extension)
        with the task's status afterwards; a task it stopped is recorded as ``CANCELLED`` in
        the store, so it is never re-attached. A service without the call (404, 405 or 501)
        gives None and the store keeps the task as it was: it may still run there.
        """
        path = f"audio-separation/{quote(str(task_id), safe='')}"
        try:
            status: TaskStatus = yield from self.call(
                f"cancel task {task_id}",
                lambda: (Send(self.api_request("DELETE", path)), None),
                lambda response: parse_status(parse_json(response), str(task_id)),
                idempotent=True,  # cancelling twice is cancelling once
            )
        except APIError as exc:
            if exc.status_code in (404, 405, 501):
                return None
            raise
        stopped = status.status != "SUCCESS" and status.exception_reason == CANCELLED
        yield from self._remember(replace(status, status=CANCELLED) if stopped else status)
        return status

    def separate(
        self, path: str | os.PathLike[str], options: SeparateOptions
    ) -> Flow[SeparationResult]:
        """Validate, submit (or reuse / re-attach), wait, download: the whole job.

        See :class:`SeparateOptions` for what each option does.
        """
        started = time.monotonic()
        info: AudioInfo = yield Offload(lambda: _probe(path, options.limits))
        original = info.path
        if options.on_validated is not None:
            yield Notify(options.on_validated, info)
        source: UploadSource = yield Offload(lambda: _hashed(UploadSource(original)))
        earlier = (yield from self._earlier(source, original, options)) if options.reuse else None
        if isinstance(earlier, SeparationResult):
            return earlier
        status: TaskStatus | None = None
        task = earlier
        if task is not None:
            try:
                status = yield from self._wait_for(task, options)
            except NotFoundError:
                log.info("task %s is gone from the service; submitting again", task.task_id)
                yield from self._remember(TaskStatus("LOST", task_id=task.task_id))
                task = None
        if task is None or status is None:
            task = yield from self.submit(
                source,
                project_name=options.project_name,
                project_description=options.project_description,
                folder_id=options.folder_id,
                method=options.method,
                on_upload=options.on_upload,
            )
            status = yield from self._wait_for(task, options)
        run = status.run_id or task.task_id
        if options.out_dir is not None:
            out = Path(options.out_dir)
        else:
            out = (yield Offload(lambda: cache_dir("stems"))) / f"{source.content_hash[:16]}-{run}"
        files = yield from self._fetch_stems(status, out, options.cancel)
        done = task
        yield from self.in_store(
            lambda s: s.record_files(
                self.store_key, done.task_id, original, files.foreground, files.background
            )
        )
        return SeparationResult(
            original,
            files.foreground,
            files.background,
            task.task_id,
            status.run_id,
            self.base_url,
            status.method or task.method,
            time.monotonic() - started,
        )

    def _wait_for(self, task: Task, options: SeparateOptions) -> Flow[TaskStatus]:
        return self.wait(
            task, timeout=options.timeout, on_progress=options.on_progress, cancel=options.cancel
        )

    def _earlier(
        self, source: UploadSource, original: Path, options: SeparateOptions
    ) -> Flow[SeparationResult | Task | None]:
        """What the task store has for this file here: a finished result, a task to wait on."""
        out_dir = options.out_dir

        def look(store: TaskStore) -> tuple[TaskRecord, StemFiles | None] | None:
            record = store.find(self.store_key, source.content_hash, options.method)
            if record is None or not record.finished:  # finished: the stems are on disk
                return None if record is None else (record, None)
            assert record.foreground is not None and record.background is not None
            fg, bg = record.foreground, record.background
            if out_dir is not None:  # the caller wants the stems there: copy them
                fg, bg = (copy_into(p, Path(out_dir)) for p in (fg, bg))
            return record, StemFiles(fg, bg)

        found = yield from self.in_store(look)
        if found is None:
            return None
        record, stems = found
        if stems is not None:
            log.info("%s: reusing task %s (same file, same service)", original.name, record.task_id)
            return SeparationResult(
                original,
                stems.foreground,
                stems.background,
                record.task_id,
                record.run_id,
                self.base_url,
                record.method,
                0.0,
                reused=True,
            )
        if record.state == UNCERTAIN:
            raise SubmitUncertainError(
                uncertain_message(original.name, self.base_url, None, record.id),
                content_hash=source.content_hash,
                filename=original.name,
                record_id=record.id,
            )
        log.info("%s: re-attaching pending task %s", original.name, record.task_id)
        return self.task_of(record)

    def task_of(self, record: TaskRecord) -> Task:
        """The :class:`Task` of a store record, on this client's URL (records carry the key)."""
        return replace(record.to_task(), base_url=self.base_url)

    def _fetch_stems(self, status: TaskStatus, out: Path, cancel: Any) -> Flow[StemFiles]:
        """Download the stems; if their URLs expired, fetch fresh ones once and try again."""
        try:
            return (yield from self.download(status, out, cancel))
        except ResultExpiredError:
            if status.run_id is None:
                raise
            log.info("result URLs of run %s expired; fetching fresh ones", status.run_id)
            fresh = yield from self.result(status.run_id)
            return (yield from self.download(fresh, out, cancel))


# -- local work the core hands to the interpreter (Offload) --------------------------------


def _probe(path: str | os.PathLike[str], limits: Limits | None) -> AudioInfo:
    """Validate *path* with :func:`camb_notebook.audio.probe`: a clear error before any upload."""
    from ..audio import probe

    return probe(Path(path).expanduser().resolve(), limits)


def _hashed(source: UploadSource) -> UploadSource:
    """*source* with its content hash computed (it streams through the whole file)."""
    _ = source.content_hash
    return source


def cancelled_wait(task: Task) -> CancelledError:
    """The error for a wait the caller cancelled (the task itself keeps running)."""
    return CancelledError(
        f"stopped waiting for task {task.task_id}: cancelled by the caller. The task goes on at "
        f"the service; pick it up again with client.wait({task.task_id!r}).",
        task_id=task.task_id,
    )


def uncertain_message(
    filename: str, base_url: str, exc: Exception | None, record_id: int | None
) -> str:
    """What to tell the user when an upload may have been accepted but no answer came back."""
    how = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
    where = f" as record {record_id}" if record_id is not None else ""
    return (
        f"submit {filename}: the whole file was sent to {base_url} but no usable answer came "
        f"back{how}, so the service may have accepted it and started a (possibly paid) task. "
        "It was NOT sent again, to avoid paying twice. Find the task id at the service (for "
        "CAMB.AI, your studio's task list) and continue with client.attach(task_id); the "
        f"attempt is kept in the task store{where} (`camb-notebook tasks` or "
        "TaskStore().unfinished() lists it). To upload again anyway, call "
        "separate(..., reuse=False) or client.submit(...) yourself."
    )
