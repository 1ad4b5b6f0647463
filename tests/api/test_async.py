"""The asyncio client: the same contract and fault behaviour as the blocking one."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from camb_notebook import (
    CancelledError,
    InputError,
    RateLimitError,
    ResultExpiredError,
    SubmitUncertainError,
    TaskFailedError,
)
from camb_notebook.api import AsyncClient, Client, TaskStatus, TaskStore
from camb_notebook.audio import AudioInfo
from tests.emulator import Emulator

from .conftest import FAST, Service, async_client, write_wav

pytestmark = pytest.mark.anyio


def test_async_client_mirrors_the_blocking_one() -> None:
    public = {n for n in dir(Client) if not n.startswith("_")} - {"close"}
    apublic = {n for n in dir(AsyncClient) if not n.startswith("_")} - {"aclose"}
    assert public == apublic
    for name in sorted(public):
        sync, other = getattr(Client, name), getattr(AsyncClient, name)
        if isinstance(sync, property):
            continue
        assert inspect.iscoroutinefunction(other), name
        s, a = inspect.signature(sync), inspect.signature(other)
        assert list(s.parameters) == list(a.parameters), name


async def test_separate(emulator: Emulator, store: TaskStore, wav: Path) -> None:
    seen: list[TaskStatus] = []

    async def on_progress(status: TaskStatus) -> None:  # coroutine callbacks are awaited
        seen.append(status)

    async with async_client(emulator, store) as client:
        result = await client.separate(wav, on_progress=on_progress)
    assert result.foreground.suffix == ".flac" and result.background.is_file()
    assert seen[-1].succeeded and emulator.submissions == 1
    assert result.stems().residual.std() < 1e-3


async def test_submit_status_result_results(
    emulator: Emulator, store: TaskStore, wav: Path
) -> None:
    async with async_client(emulator, store) as client:
        task = await client.submit(wav, project_name="p")
        status = await client.wait(task)
        urls = await client.result(status.run_id)
        batch = await client.results([status.run_id])
        assert batch[status.run_id].run_id == urls.run_id
        assert (await client.status(task.task_id)).succeeded
        again = await client.attach(task.task_id)
        assert again.task_id == task.task_id
    assert emulator.last_form == {"project_name": "p"}


async def test_retry_after(emulator: Emulator, store: TaskStore, wav: Path) -> None:
    emulator.fail_next("submit", 429, retry_after_ms=100)
    emulator.fail_next("status", 503)
    async with async_client(emulator, store) as client:
        await client.wait(await client.submit(wav))
    assert emulator.count("submit") == 2 and emulator.submissions == 1


async def test_rate_limit_exhausted(emulator: Emulator, store: TaskStore, wav: Path) -> None:
    emulator.fail_next("submit", 429, times=10)
    async with async_client(emulator, store) as client:
        with pytest.raises(RateLimitError):
            await client.submit(wav)
    assert emulator.submissions == 0


async def test_reset_after_body_is_uncertain(
    emulator: Emulator, store: TaskStore, wav: Path
) -> None:
    emulator.fail_next("submit", reset="after_body")
    async with async_client(emulator, store) as client:
        with pytest.raises(SubmitUncertainError, match="NOT sent again"):
            await client.submit(wav)
    assert emulator.count("submit") == 1 and emulator.submissions == 1


async def test_reset_before_body_is_retried(
    emulator: Emulator, store: TaskStore, tmp_path: Path
) -> None:
    big = write_wav(tmp_path / "big.wav", seconds=150)
    emulator.fail_next("submit", reset="before_body")
    async with async_client(emulator, store) as client:
        await client.submit(big)
    assert emulator.count("submit") == 2 and emulator.submissions == 1


async def test_failed_task(emulator: Emulator, store: TaskStore, wav: Path) -> None:
    emulator.finish_next("ERROR", "SOURCE_TOO_LONG")
    async with async_client(emulator, store) as client:
        with pytest.raises(TaskFailedError, match="split the clip"):
            await client.separate(wav)


async def test_cancelling_the_asyncio_task(store: TaskStore, wav: Path) -> None:
    with Emulator(pending_polls=10_000) as emu:
        async with async_client(emu, store, poll_interval=0.05) as client:
            task = await client.submit(wav)
            waiter = asyncio.ensure_future(client.wait(task))
            await asyncio.sleep(0.2)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            # The client is still usable afterwards.
            assert (await client.status(task)).status == "PENDING"


@pytest.mark.parametrize("event", [asyncio.Event, threading.Event])
async def test_cancel_event(store: TaskStore, wav: Path, event: type) -> None:
    with Emulator(pending_polls=10_000) as emu:
        async with async_client(emu, store, poll_interval=0.05) as client:
            task = await client.submit(wav)
            cancel = event()
            asyncio.get_running_loop().call_later(0.2, cancel.set)
            with pytest.raises(CancelledError, match="cancelled by the caller"):
                await client.wait(task, cancel=cancel)


async def test_separate_many_bounds_concurrency(store: TaskStore, tmp_path: Path) -> None:
    paths = [write_wav(tmp_path / f"clip{i}.wav", 0.3 + 0.1 * i) for i in range(5)]
    progress: list[Path] = []
    with Emulator(pending_polls=3) as emu:
        async with async_client(emu, store) as client:
            results = await client.separate_many(
                paths, concurrency=2, on_progress=lambda p, st: progress.append(p)
            )
        assert emu.submissions == 5 and 1 <= emu.max_pending <= 2
    assert [r.original for r in results] == [p.resolve() for p in paths]  # type: ignore[union-attr]
    assert set(progress) == set(paths)


async def test_separate_many_return_exceptions(store: TaskStore, tmp_path: Path) -> None:
    good = write_wav(tmp_path / "good.wav")
    with Emulator() as emu:
        emu.finish_next("ERROR", "INVALID_SOURCE_DATA")
        async with async_client(emu, store) as client:
            first, second = await client.separate_many(
                [good, write_wav(tmp_path / "two.wav", 0.5)],
                concurrency=1,
                return_exceptions=True,
            )
    assert isinstance(first, TaskFailedError) and second.foreground.is_file()  # type: ignore[union-attr]


def test_separate_many_sync_threads(store: TaskStore, tmp_path: Path) -> None:
    paths = [write_wav(tmp_path / f"s{i}.wav", 0.3 + 0.1 * i) for i in range(4)]
    with (
        Emulator(pending_polls=3) as emu,
        Client(emu.api_key, emu.base_url, store=store, **FAST) as c,
    ):
        results = c.separate_many(paths, concurrency=2)
        assert emu.submissions == 4 and emu.max_pending <= 2
    assert [r.original for r in results] == [p.resolve() for p in paths]  # type: ignore[union-attr]


def test_separate_many_sync_raises_the_first_failure(store: TaskStore, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    paths = [write_wav(tmp_path / "a.wav"), bad, write_wav(tmp_path / "c.wav", 0.5)]
    with Emulator() as emu, Client(emu.api_key, emu.base_url, store=store, **FAST) as c:
        with pytest.raises(InputError, match=r"bad\.wav") as err:
            c.separate_many(paths, concurrency=2)
        assert not isinstance(err.value, CancelledError)
        failed = c.separate_many(paths, concurrency=2, return_exceptions=True)
        assert isinstance(failed[1], InputError) and failed[0].foreground.is_file()  # type: ignore[union-attr]
        with pytest.raises(ValueError, match="concurrency=0"):
            c.separate_many(paths, concurrency=0)


async def test_expired_urls(
    emulator: Emulator, store: TaskStore, wav: Path, tmp_path: Path
) -> None:
    async with async_client(emulator, store) as client:
        status = await client.wait(await client.submit(wav))
        urls = await client.result(status.run_id)
        emulator.expire_urls()
        with pytest.raises(ResultExpiredError, match=rf"client\.result\({status.run_id}\)"):
            await client.download(urls, tmp_path / "out")
        emulator.fail_next("file", 403)
        result = await client.separate(wav, reuse=False)  # refreshes the URLs once by itself
    assert result.foreground.is_file() and emulator.submissions == 2


async def test_hashing_a_big_file_does_not_block_the_event_loop(
    store: TaskStore, tmp_path: Path
) -> None:
    from .test_upload import sparse_wav

    big = sparse_wav(tmp_path / "big.wav", 256 << 20)  # hashing it takes a good fraction of 1 s
    gaps: list[float] = []

    async def ticker() -> None:
        last = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(0.01)
            now = asyncio.get_running_loop().time()
            gaps.append(now - last)
            last = now

    from tests.emulator import Receiver

    with Receiver() as receiver:
        async with AsyncClient("k-123456", receiver.base_url, store=store) as client:
            tick = asyncio.ensure_future(ticker())
            await asyncio.sleep(0.05)  # the ticker is running
            await client.submit(big)
            tick.cancel()
    assert len(gaps) > 10 and max(gaps) < 0.25, f"the loop stalled for {max(gaps):.2f} s"


# -- the event loop never waits on the disk ------------------------------------------------

#: Audit events of the task store and of file work (Python raises them before the syscall).
_DISK_EVENTS = {"sqlite3.connect", "open", "os.mkdir", "os.rename", "os.remove", "shutil.copyfile"}
_seen: list[tuple[str, int, tuple[str, ...]]] | None = None  # (event, thread, paths) while on
_hooked = False


def _audit(event: str, args: tuple[object, ...]) -> None:
    seen = _seen
    if seen is None or event not in _DISK_EVENTS:
        return
    paths = tuple(os.fsdecode(a) for a in args if isinstance(a, (str, bytes, os.PathLike)))
    seen.append((event, threading.get_ident(), paths))


@contextlib.contextmanager
def disk_events() -> Iterator[list[tuple[str, int, tuple[str, ...]]]]:
    """Record every task-store connection and file operation, with the thread that did it."""
    global _seen, _hooked
    if not _hooked:  # an audit hook cannot be removed: install one, switched by `_seen`
        sys.addaudithook(_audit)
        _hooked = True
    _seen = []
    try:
        yield _seen
    finally:
        _seen = None


async def test_store_and_file_work_never_run_on_the_event_loop(
    service: Service, tmp_path: Path
) -> None:
    """Probe, hash, task store, stems folder, download, rename, copy: all in worker threads."""
    wav = write_wav(tmp_path / "song.wav")
    store = TaskStore(tmp_path / "tasks.sqlite3")
    ours = (str(tmp_path), os.environ["CAMB_NOTEBOOK_CACHE_DIR"])
    validated: list[AudioInfo] = []
    async with AsyncClient(service.api_key, service.base_url, store=store, **FAST) as client:
        loop = threading.get_ident()
        with disk_events() as events:
            store.all()  # the instrument sees store work on the loop thread ...
        assert [e for e, thread, _ in events if thread == loop] == ["sqlite3.connect"]

        with disk_events() as events:
            first = await client.separate(wav, on_validated=validated.append)  # stems: cache
            again = await client.separate(wav, out_dir=tmp_path / "copy")  # reused: copied
            await client.wait(first.task_id)  # a bare id is looked up in the store
            await client.attach(first.task_id)
    assert again.reused and again.foreground.parent == tmp_path / "copy"
    assert [info.path for info in validated] == [wav.resolve()]
    ours_events = [(e, t, p) for e, t, p in events if any(x.startswith(ours) for x in p)]
    on_loop = [(e, p) for e, t, p in ours_events if t == loop]
    assert on_loop == [], f"{len(on_loop)} disk operations on the loop's thread: {on_loop[:4]}"
    # ... and the work did happen, in worker threads.
    done = {e for e, _, _ in ours_events}
    assert {"sqlite3.connect", "open", "os.mkdir", "os.rename", "shutil.copyfile"} <= done


def test_a_clean_up_runs_to_its_end_through_a_cancellation() -> None:
    """A cancelled download still removes its part file, even when every worker is busy."""
    from camb_notebook.api._client import _to_thread_to_the_end

    ran: list[str] = []
    busy = threading.Event()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=1))  # this loop's own
        blocker = loop.run_in_executor(None, busy.wait)  # the one worker is taken

        async def failing_download() -> None:
            try:
                raise OSError("cut")
            except OSError:
                await _to_thread_to_the_end(lambda: ran.append("clean-up"))
                raise

        download = asyncio.ensure_future(failing_download())
        await asyncio.sleep(0.05)  # its clean-up waits for a worker ...
        download.cancel()  # ... when the download is cancelled
        await asyncio.sleep(0.05)
        busy.set()
        with pytest.raises(asyncio.CancelledError):
            await download
        await blocker

    asyncio.run(main())
    assert ran == ["clean-up"]
