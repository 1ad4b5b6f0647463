"""The task store: what it keeps, what it finds, and that it survives concurrent writers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from camb_notebook.api import Task, TaskStatus, TaskStore
from camb_notebook.api._store import public_base_url

URL = "http://127.0.0.1:9/apis"


def test_find_prefers_finished_then_pending_then_uncertain(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "t.sqlite3")
    assert store.find(URL, "h") is None
    rid = store.record_uncertain(URL, "h", "a.wav", 10)
    assert store.find(URL, "h").id == rid  # type: ignore[union-attr]
    store.record_submitted(Task("t1", URL, "a.wav", "h", 1.0), 10)
    assert store.find(URL, "h").task_id == "t1"  # type: ignore[union-attr]
    store.record_submitted(Task("t2", URL, "a.wav", "h", 2.0), 10)
    files = [tmp_path / n for n in ("a.wav", "fg.flac", "bg.flac")]
    for f in files:
        f.write_bytes(b"x")
    store.update_status(URL, TaskStatus("SUCCESS", run_id=5, task_id="t2"))
    store.record_files(URL, "t2", *files)
    best = store.find(URL, "h")
    assert best is not None and best.task_id == "t2" and best.finished and best.run_id == 5
    files[0].unlink()  # the original may move: the stems are what is reused
    assert store.find(URL, "h").task_id == "t2"  # type: ignore[union-attr]
    files[1].unlink()  # a stem was deleted: not reusable any more
    assert store.find(URL, "h").task_id == "t1"  # type: ignore[union-attr]
    assert store.find(URL, "h", method="repet") is None  # method is part of the key
    assert store.find("http://other/apis", "h") is None  # and so is the service
    assert {r.state for r in store.unfinished(URL)} == {"PENDING", "UNCERTAIN"}
    store.forget(rid)
    assert [r.task_id for r in store.unfinished()] == ["t1"]


def test_failed_tasks_are_not_reused(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "t.sqlite3")
    store.record_submitted(Task("t", URL, "a.wav", "h", 1.0))
    store.update_status(URL, TaskStatus("ERROR", exception_reason="PROCESSING_ERROR", task_id="t"))
    assert store.find(URL, "h") is None and store.unfinished() == []
    assert store.get(URL, "t").exception_reason == "PROCESSING_ERROR"  # type: ignore[union-attr]


def test_credentials_in_base_url_are_not_stored(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "t.sqlite3")
    secret_url = "https://me:hunter2-password@svc.example/apis"
    store.record_submitted(Task("t", secret_url, "a.wav", "h", 1.0))
    assert store.get(secret_url, "t").base_url == "https://svc.example/apis"  # type: ignore[union-attr]
    assert b"hunter2" not in store.path.read_bytes()
    assert public_base_url(URL) == URL


def test_concurrent_writers(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "t.sqlite3")

    def write(n: int) -> None:
        other = TaskStore(store.path)  # another client, same file
        for i in range(20):
            other.record_submitted(Task(f"t{n}-{i}", URL, "a.wav", f"h{n}", 1.0))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.all()) == 80


def test_a_record_keeps_every_field(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "t.sqlite3")
    store.record_submitted(Task("t", URL, "song.wav", "hash-1", 1234.5, "repet"), 4096)
    files = [tmp_path / n for n in ("song.wav", "fg.flac", "bg.flac")]
    for f in files:
        f.write_bytes(b"x")
    store.update_status(URL, TaskStatus("SUCCESS", run_id=8, task_id="t"))
    store.record_files(URL, "t", *files)
    record = store.get(URL, "t")
    assert record is not None
    assert (record.task_id, record.base_url, record.content_hash) == ("t", URL, "hash-1")
    assert (record.filename, record.size, record.method) == ("song.wav", 4096, "repet")
    assert (record.state, record.run_id, record.exception_reason) == ("SUCCESS", 8, None)
    assert (record.original, record.foreground, record.background) == tuple(files)
    assert record.submitted_at == 1234.5 and record.updated_at > 1234.5
    assert record.finished and record.id >= 1
    assert store.find(URL, "hash-1", method="repet") == record
    assert store.find(URL, "hash-1") is None  # asked without a method: another key


def test_to_task_gives_back_the_task(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "t.sqlite3")
    task = Task("t-9", URL, "a.wav", "h", 77.0, "repet")
    store.record_submitted(task)
    assert store.get(URL, "t-9").to_task() == task  # type: ignore[union-attr]
    store.record_submitted(Task("t-10", URL, "b.wav", "h2", 78.0))
    assert store.get(URL, "t-10").to_task().method is None  # type: ignore[union-attr]
    rid = store.record_uncertain(URL, "h3", "c.wav", 10)
    [uncertain] = [r for r in store.unfinished() if r.id == rid]
    with pytest.raises(ValueError, match=rf"^record {rid} has no task id \(state UNCERTAIN\)$"):
        uncertain.to_task()


def test_an_unknown_task_is_none(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "t.sqlite3")
    assert store.get(URL, "nope") is None
    store.record_submitted(Task("t", URL, "a.wav", "h", 1.0))
    assert store.get(URL, "nope") is None and store.get("http://other/apis", "t") is None


def test_a_submission_time_of_zero_means_now(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "t.sqlite3")
    before = time.time()
    store.record_submitted(Task("t", URL, "a.wav", "h", 0.0))
    record = store.get(URL, "t")
    assert record is not None and before <= record.submitted_at <= time.time()


def test_where_the_store_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMB_NOTEBOOK_CACHE_DIR", str(tmp_path / "cache"))
    store = TaskStore()
    assert store.path == tmp_path / "cache" / "tasks" / "tasks.sqlite3" and store.path.is_file()
    assert repr(store) == f"TaskStore({str(store.path)!r})"
    deep = TaskStore(tmp_path / "a" / "b" / "t.sqlite3")  # missing folders are made
    assert deep.path.is_file() and deep.all() == []


def test_a_base_url_without_credentials_is_kept_as_written() -> None:
    assert public_base_url("HTTP://Svc.Example:8750/apis/") == "HTTP://Svc.Example:8750/apis/"
    assert public_base_url("https://me:pw@Svc.Example/apis") == "https://svc.example/apis"


def test_record_stems_by_task_id_or_run_id(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "t.sqlite3")
    fg, bg = tmp_path / "fg.flac", tmp_path / "bg.flac"
    assert store.record_stems(URL, fg, bg) == 0  # neither key: nothing to find
    assert store.record_stems(URL, fg, bg, task_id="nobody") == 0
    store.record_submitted(Task("t1", URL, "a.wav", "h", 1.0), 10)
    store.record_submitted(Task("t2", "http://user:pw@127.0.0.1:9/apis", "b.wav", "h2", 1.0))
    store.update_status(URL, TaskStatus("PENDING", run_id=7, task_id="t2"))
    before = time.time()
    assert store.record_stems(URL, fg, bg, task_id="t1") == 1
    # By run id, on the same service written with credentials: the public URL is the key.
    assert store.record_stems("http://u:p@127.0.0.1:9/apis", bg, fg, run_id=7) == 1
    assert store.record_stems("http://other/apis", fg, bg, run_id=7) == 0
    one, two = store.get(URL, "t1"), store.get(URL, "t2")
    assert one is not None and two is not None
    assert (one.state, one.foreground, one.background) == ("SUCCESS", fg, bg)
    assert (two.state, two.foreground, two.background) == ("SUCCESS", bg, fg)
    assert one.updated_at >= before and one.original is None
