"""The asyncio client: the same contract and fault behaviour as the blocking one."""

from __future__ import annotations

import asyncio
import inspect
import threading
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
from tests.emulator import Emulator

from .conftest import FAST, async_client, write_wav

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
