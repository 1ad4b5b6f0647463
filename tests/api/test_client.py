"""The blocking client end to end against the emulator: the whole contract, reuse, re-attach."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from camb_notebook import AudioFormatError, InputError, NotFoundError
from camb_notebook.api import Client, ResultURLs, SeparationResult, Settings, TaskStore
from camb_notebook.audio import load
from tests.emulator import Emulator

from .conftest import FAST, write_wav

MakeClient = Callable[..., Client]


@pytest.mark.parametrize("style", [None, "new", "legacy"])
def test_separate_reads_urls_from_status_or_result_endpoint(
    make_client: MakeClient, wav: Path, style: str | None, tmp_path: Path
) -> None:
    with Emulator(urls_in_status=style) as emu:
        client = make_client(api_key=emu.api_key, base_url=emu.base_url)
        result = client.separate(wav, out_dir=tmp_path / "out")
        assert emu.count("result") == (1 if style is None else 0)
        assert emu.submissions == 1
    assert result.foreground == tmp_path / "out" / "foreground.flac"  # named from the bytes
    assert result.background == tmp_path / "out" / "background.flac"
    x, sr = load(wav)
    fg, fg_sr = load(result.foreground)
    assert fg_sr == sr and fg.shape == x.shape
    np.testing.assert_allclose(fg, 0.5 * x, atol=1e-4)  # the emulator's transform
    stems = result.stems()
    assert np.abs(stems.residual).max() < 1e-3  # the stems sum back to the original
    assert result.stems() is stems  # cached
    assert result.run_id is not None and result.elapsed > 0 and not result.reused


def test_downloads_never_carry_the_key(client: Client, emulator: Emulator, wav: Path) -> None:
    client.separate(wav)
    files = [r for r in emulator.requests if r["endpoint"] == "file"]
    api = [r for r in emulator.requests if r["endpoint"] != "file"]
    assert len(files) == 2 and not any(r["had_key"] for r in files)
    assert all(r["had_key"] for r in api)


def test_submit_sends_media_file_and_only_the_fields_given(
    client: Client, emulator: Emulator, wav: Path
) -> None:
    client.submit(wav)
    assert emulator.last_form == {} and emulator.last_filename == "song.wav"
    client.submit(wav, "proj", "a description\nwith two lines", 42, method="repet")
    assert emulator.last_form == {
        "project_name": "proj",
        "project_description": "a description\nwith two lines",
        "folder_id": "42",
        "method": "repet",
    }


def test_submit_accepts_bytes_and_file_objects(
    client: Client, emulator: Emulator, wav: Path
) -> None:
    data = wav.read_bytes()
    task = client.submit(data)
    assert emulator.last_filename == "upload.wav"  # named after the sniffed format
    assert emulator.task(task.task_id).media == data
    with open(wav, "rb") as f:
        f.read(10)  # a file object not at its start is sent from where it stands
        task = client.submit(f, filename="custom name.wav")
        assert emulator.task(task.task_id).media == data[10:]
    assert emulator.last_filename == "custom name.wav"
    task = client.submit(io.BytesIO(data))
    assert emulator.task(task.task_id).media == data


def test_submit_rejects_bad_arguments_before_uploading(
    client: Client, emulator: Emulator, wav: Path, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="folder_id='7' must be an integer"):
        client.submit(wav, folder_id="7")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no such file"):
        client.submit(tmp_path / "missing.wav")
    with pytest.raises(InputError, match="empty"):
        client.submit(b"")
    with pytest.raises(InputError, match="expected a path, bytes or a binary file object"):
        client.submit(12)  # type: ignore[arg-type]
    assert emulator.requests == []


def test_separate_probes_the_file_before_any_upload(
    client: Client, emulator: Emulator, tmp_path: Path
) -> None:
    fake = tmp_path / "notes.wav"
    fake.write_text("these are not audio samples")
    with pytest.raises(AudioFormatError, match=r"notes\.wav"):
        client.separate(fake)
    assert emulator.requests == []


def test_status_result_results(client: Client, emulator: Emulator, wav: Path) -> None:
    tasks = [client.submit(wav), client.submit(write_wav(wav.with_name("b.wav"), 0.5))]
    runs = [client.wait(t).run_id for t in tasks]
    assert all(isinstance(r, int) for r in runs)
    status = client.status(tasks[0])
    assert status.succeeded and status.done and status.task_id == tasks[0].task_id
    one = client.result(runs[0])
    assert isinstance(one, ResultURLs) and one.run_id == runs[0]
    both = client.results(runs)
    assert sorted(both) == sorted(runs)
    assert all(u.foreground_url.startswith("http://127.0.0.1") for u in both.values())
    with pytest.raises(NotFoundError, match="Run 999 not found"):
        client.result(999)
    with pytest.raises(NotFoundError):
        client.status("no-such-task")
    with pytest.raises(InputError, match="run_id='3' must be an integer"):
        client.result("3")  # type: ignore[arg-type]


def test_download_rejects_an_unfinished_status(client: Client, wav: Path, tmp_path: Path) -> None:
    status = client.status(client.submit(wav))
    assert status.status == "PENDING"
    with pytest.raises(InputError, match="only a SUCCESS has stems"):
        client.download(status, tmp_path)


def test_reuse_of_an_identical_file(
    client: Client, emulator: Emulator, wav: Path, tmp_path: Path
) -> None:
    first = client.separate(wav)
    copy = tmp_path / "copy.wav"
    copy.write_bytes(wav.read_bytes())
    again = client.separate(copy)  # same bytes, another name
    assert again.reused and again.foreground == first.foreground
    assert again.original == copy.resolve()
    assert emulator.submissions == 1
    wav.rename(tmp_path / "moved.wav")  # the first original is gone; its stems are not
    copied = client.separate(copy, out_dir=tmp_path / "wanted")  # and out_dir is honoured
    assert copied.reused and copied.foreground == tmp_path / "wanted" / "foreground.flac"
    assert copied.foreground.read_bytes() == first.foreground.read_bytes()
    wav = tmp_path / "moved.wav"
    fresh = client.separate(wav, reuse=False)
    assert not fresh.reused and emulator.submissions == 2
    other = client.separate(wav, method="other")  # another method is another result
    assert not other.reused and emulator.submissions == 3


def test_reuse_needs_the_files_on_disk(client: Client, emulator: Emulator, wav: Path) -> None:
    first = client.separate(wav)
    first.foreground.unlink()
    second = client.separate(wav)
    assert not second.reused and second.foreground.is_file() and emulator.submissions == 2


def test_reuse_is_per_service(make_client: MakeClient, emulator: Emulator, wav: Path) -> None:
    make_client().separate(wav)
    with Emulator() as other:
        result = make_client(api_key=other.api_key, base_url=other.base_url).separate(wav)
        assert not result.reused and other.submissions == 1


def test_reattach_after_a_restart(wav: Path, store: TaskStore, tmp_path: Path) -> None:
    with Emulator(pending_polls=3) as emu:
        with Client(emu.api_key, emu.base_url, store=store, **FAST) as before:
            task = before.submit(wav)
        # A new process: nothing in memory but the task store on disk.
        restarted = TaskStore(store.path)
        [record] = restarted.unfinished(emu.base_url)
        assert record.task_id == task.task_id and record.filename == "song.wav"
        with Client(emu.api_key, emu.base_url, store=restarted, **FAST) as after:
            again = after.attach(record.task_id)
            assert again.content_hash == task.content_hash
            files = after.download(after.wait(again), tmp_path / "stems")
        assert files.foreground.is_file() and emu.submissions == 1
        assert restarted.unfinished(emu.base_url) == []


def test_separate_reattaches_a_pending_task(wav: Path, store: TaskStore) -> None:
    with Emulator(pending_polls=2) as emu:
        with Client(emu.api_key, emu.base_url, store=store, **FAST) as client:
            task = client.submit(wav)
            result = client.separate(wav)
        assert result.task_id == task.task_id and emu.submissions == 1


def test_separate_resubmits_when_a_pending_task_is_gone(
    make_client: MakeClient, emulator: Emulator, wav: Path, store: TaskStore
) -> None:
    client = make_client(not_found_grace=0.0)
    task = client.submit(wav)
    emulator.forget_tasks()  # e.g. a restarted local engine that lost its queue
    result = client.separate(wav)
    assert result.task_id != task.task_id and emulator.submissions == 2
    assert store.get(client.base_url, task.task_id).state == "LOST"  # type: ignore[union-attr]


def test_a_service_with_a_stable_identity_is_found_on_its_next_port(
    wav: Path, store: TaskStore
) -> None:
    """The embedded engine gets a new port in every kernel; its identity keeps the store useful."""

    def settings(emu: Emulator) -> Settings:
        return Settings(emu.base_url, emu.api_key, "engine", identity="local-engine")

    with Emulator() as before, Emulator(pending_polls=1000) as stuck, Emulator() as after:
        with Client(settings=settings(before), store=store, **FAST) as client:
            first = client.separate(wav)
        with Client(settings=settings(stuck), store=store, **FAST) as client:
            pending = client.submit(write_wav(wav.with_name("other.wav"), seconds=1.5))
        assert store.get("local-engine", pending.task_id).state == "PENDING"  # type: ignore[union-attr]
        with Client(settings=settings(after), store=store, not_found_grace=0.0, **FAST) as client:
            # Finished on the old port: reused from disk, nothing sent to the new one.
            again = client.separate(wav)
            assert again.reused and again.task_id == first.task_id and after.submissions == 0
            # Pending on the old port: the new engine has never heard of it (404), so the LOST
            # rule submits it again, once.
            redone = client.separate(wav.with_name("other.wav"))
        assert redone.task_id != pending.task_id and after.submissions == 1
        assert store.get("local-engine", pending.task_id).state == "LOST"  # type: ignore[union-attr]
        assert store.get(before.base_url, first.task_id) is None  # filed by identity, not URL


def test_cancel_on_a_service_without_cancel_keeps_the_task(
    make_client: MakeClient, emulator: Emulator, wav: Path, store: TaskStore
) -> None:
    """CAMB.AI's cloud has no cancel call (the emulator answers 404): None, task kept."""
    client = make_client()
    task = client.submit(wav)
    assert client.cancel(task) is None
    assert store.get(client.base_url, task.task_id).state == "PENDING"  # type: ignore[union-attr]
    assert client.separate(wav).task_id == task.task_id  # still re-attached, never re-sent
    assert emulator.submissions == 1


def test_attach_unknown_task(client: Client) -> None:
    with pytest.raises(NotFoundError):
        client.attach("never-submitted")


def test_separation_result_display_falls_back_to_text(
    client: Client, wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = client.separate(wav)
    import camb_notebook.viz as viz

    def broken(_: SeparationResult) -> dict[str, str]:
        raise RuntimeError("no display here")

    monkeypatch.setattr(viz, "result_mimebundle", broken)
    bundle = result._repr_mimebundle_()
    assert "song.wav" in bundle["text/plain"] and "no display here" in bundle["text/html"]


def test_separation_result_display_uses_viz(client: Client, wav: Path) -> None:
    result = client.separate(wav)
    bundle = result._repr_mimebundle_()
    # What only the real display has (the text fallback has text/plain and text/html too):
    # the figure as a PNG, the players of the three lanes, the files and the task id.
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    html = bundle["text/html"]
    assert 'class="camb-result"' in html and html.count("<audio") == 3
    assert "plots unavailable" not in html
    assert bundle["text/plain"].startswith("song.wav — separated")
    assert f"task_id: {result.task_id}" in bundle["text/plain"]


def test_logs_say_what_happens(
    client: Client, emulator: Emulator, wav: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="camb_notebook.api")
    emulator.fail_next("status", 503)
    client.separate(wav)
    text = caplog.text
    assert "submit song.wav" in text and "accepted as task" in text
    assert "503 Service Unavailable; retrying" in text
    assert "saved foreground stem" in text


def test_downloaded_stem_with_unknown_format_keeps_url_suffix(
    client: Client, emulator: Emulator, wav: Path, tmp_path: Path
) -> None:
    status = client.wait(client.submit(wav))
    urls = client.result(status.run_id)
    run = emulator._stems[status.run_id]
    run["foreground"] = b"\x00\x01 not a known format"
    files = client.download(urls, tmp_path / "odd")
    assert files.foreground.suffix == ".bin" and files.background.suffix == ".flac"
    data, _ = sf.read(files.background)
    assert data.size > 0


def test_result_files_behind_a_redirect(client: Client, emulator: Emulator, wav: Path) -> None:
    emulator.fail_next("file", 307)
    result = client.separate(wav)
    assert result.foreground.is_file() and result.background.is_file()
    assert emulator.count("file") == 3


def test_upload_progress(client: Client, wav: Path) -> None:
    seen: list[tuple[int, int]] = []
    client.submit(wav, on_upload=lambda sent, total: seen.append((sent, total)))
    total = seen[-1][1]
    assert seen[-1] == (total, total) and total > wav.stat().st_size
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)


def test_default_store_lives_in_the_cache_dir(emulator: Emulator, wav: Path) -> None:
    from camb_notebook._config import cache_dir

    with Client(emulator.api_key, emulator.base_url, **FAST) as client:
        assert client.store is not None
        assert client.store.path == cache_dir("tasks") / "tasks.sqlite3"
        task = client.submit(wav)
        assert client.store.get(client.base_url, task.task_id) is not None
    with Client(emulator.api_key, emulator.base_url, store=False) as bare:
        assert bare.store is None
        bare.submit(wav)  # works, records nothing
