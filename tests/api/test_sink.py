"""Downloaded stems on disk: no partial file outlives a failed, cut or cancelled download.

Cutting a body part-way and stalling one forever are edge cases the emulator cannot produce on
demand, so these go through an ``httpx.MockTransport``; whole downloads are covered against the
emulator and the engine elsewhere.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from camb_notebook import CancelledError, NetworkError
from camb_notebook.api import AsyncClient, Client, ResultURLs, RetryPolicy
from camb_notebook.api._sink import StemSink

URLS = ResultURLs("http://files.test/fg.flac", "http://files.test/bg.flac", 7)
FAST = RetryPolicy(max_attempts=2, backoff_base=0.001)
HEAD = b"fLaC" + bytes(60_000)


def test_an_aborted_sink_creates_nothing(tmp_path: Path) -> None:
    sink = StemSink(tmp_path / "out", "foreground", URLS.foreground_url)
    sink.abort()  # e.g. a cancelled download whose begin() had not run yet
    sink.begin()
    assert not (tmp_path / "out").exists()


def test_a_finished_sink_keeps_its_file(tmp_path: Path) -> None:
    sink = StemSink(tmp_path, "background", URLS.background_url)
    sink.begin()
    sink.write(HEAD)
    path = sink.finish()
    sink.abort()  # nothing to do once finished
    assert path == tmp_path / "background.flac" and path.read_bytes() == HEAD
    assert [p.name for p in tmp_path.iterdir()] == ["background.flac"]


class _CutSync(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield HEAD
        raise httpx.ReadError("connection reset by peer")


class _CutAsync(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield HEAD
        raise httpx.ReadError("connection reset by peer")


def test_a_cut_download_leaves_no_part_file(tmp_path: Path) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, stream=_CutSync())

    transport = httpx.MockTransport(handler)
    with (
        Client("k-1234", "http://svc.test/apis", transport=transport, store=False, retry=FAST) as c,
        pytest.raises(NetworkError, match="ReadError"),
    ):
        c.download(URLS, tmp_path / "out")
    assert len(calls) == 4  # both stems, tried twice each
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.anyio
async def test_a_cut_async_download_leaves_no_part_file(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_CutAsync())

    transport = httpx.MockTransport(handler)
    async with AsyncClient(
        "k-123456", "http://svc.test/apis", transport=transport, store=False, retry=FAST
    ) as client:
        with pytest.raises(NetworkError, match="ReadError"):
            await client.download(URLS, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.anyio
async def test_cancelling_an_async_download_removes_its_part_files(tmp_path: Path) -> None:
    stalled = asyncio.Event()  # never set: the body stops after its first block

    class Stall(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield HEAD
            await stalled.wait()

    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=Stall()))
    out = tmp_path / "out"
    async with AsyncClient(
        "k-123456", "http://svc.test/apis", transport=transport, store=False
    ) as c:
        download = asyncio.ensure_future(c.download(URLS, out))
        for _ in range(500):  # until both part files are there
            await asyncio.sleep(0.01)
            if out.is_dir() and len(list(out.iterdir())) == 2:
                break
        assert sorted(p.name for p in out.iterdir()) == [".background.part", ".foreground.part"]
        download.cancel()
        with pytest.raises(asyncio.CancelledError):
            await download
    assert list(out.iterdir()) == []


def test_a_cancel_event_stops_a_download_and_removes_its_part_files(tmp_path: Path) -> None:
    class Trickle(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield HEAD
            while True:  # a slow server: a small block every 10 ms
                time.sleep(0.01)
                yield bytes(1000)

    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=Trickle()))
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    with (
        Client("k-123456", "http://svc.test/apis", transport=transport, store=False) as c,
        pytest.raises(CancelledError, match="was cancelled after"),
    ):
        c.download(URLS, tmp_path / "out", cancel=cancel)
    assert list((tmp_path / "out").iterdir()) == []
