"""Re-attaching never leads to paying twice: every way a task is finished records where its
stems went, and the next ``separate`` of the same file on the same service reuses them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from camb_notebook.api import Client, TaskStore
from tests.emulator import Emulator

from .conftest import write_wav


def test_attach_wait_download_is_reused(
    emulator: Emulator, make_client: Callable[..., Client], store: TaskStore, wav: Path
) -> None:
    client = make_client()
    task = client.submit(wav)  # then the process died before it downloaded anything
    fresh = make_client()  # a new kernel, the same task store
    status = fresh.wait(fresh.attach(task.task_id))
    files = fresh.download(status, wav.parent / "attached")
    record = store.get(emulator.base_url, task.task_id)
    assert record is not None and record.finished
    assert (record.foreground, record.background) == (files.foreground, files.background)

    again = fresh.separate(wav)
    assert again.reused and again.task_id == task.task_id
    assert again.foreground == files.foreground
    assert emulator.submissions == 1


def test_a_download_from_the_result_call_is_recorded_by_run_id(
    emulator: Emulator, make_client: Callable[..., Client], store: TaskStore, wav: Path
) -> None:
    client = make_client()
    status = client.wait(client.submit(wav))
    assert status.run_id is not None
    client.download(client.result(status.run_id), wav.parent / "by-run")
    assert client.separate(wav).reused
    assert emulator.submissions == 1


def test_separate_many_records_every_clip(
    emulator: Emulator, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    clips = [write_wav(tmp_path / f"clip{i}.wav", seconds=0.5 + 0.1 * i) for i in range(3)]
    client = make_client()
    first = client.separate_many(clips, concurrency=3)
    assert not any(r.reused for r in first) and emulator.submissions == 3
    second = make_client().separate_many(clips, concurrency=3)
    assert all(r.reused for r in second) and emulator.submissions == 3
    assert [r.task_id for r in second] == [r.task_id for r in first]
