"""Chunked uploads from the browser to a file in the kernel."""

from __future__ import annotations

import pytest

from camb_notebook._exceptions import InputError, LimitExceededError
from camb_notebook.widget._uploads import UploadReceiver, safe_name


@pytest.fixture
def receiver(tmp_path):
    rx = UploadReceiver(tmp_path / "uploads")
    yield rx
    rx.close()


def test_chunks_reassemble_the_file(receiver):
    data = bytes(range(256)) * 9000  # 2.3 MB
    rx = receiver
    rx.start("u1", "song.wav", len(data))
    for offset in range(0, len(data), 1 << 20):
        assert rx.chunk("u1", offset, memoryview(data[offset : offset + (1 << 20)])) == min(
            len(data), offset + (1 << 20)
        )
    path = rx.finish("u1")
    assert path.name == "song.wav" and path.read_bytes() == data


def test_out_of_order_chunk_is_refused(receiver):
    rx = receiver
    rx.start("u1", "a.wav", 10)
    rx.chunk("u1", 0, b"12345")
    with pytest.raises(InputError, match="chunk at byte 0 but 5 bytes"):
        rx.chunk("u1", 0, b"12345")


def test_more_data_than_announced_is_refused(receiver):
    rx = receiver
    rx.start("u1", "a.wav", 4)
    with pytest.raises(InputError, match="announced 4 bytes"):
        rx.chunk("u1", 0, b"12345")


def test_incomplete_upload_cannot_finish_and_is_removed(receiver):
    rx = receiver
    up = rx.start("u1", "a.wav", 10)
    rx.chunk("u1", 0, b"123")
    with pytest.raises(InputError, match="only 3 of 10 bytes"):
        rx.finish("u1")
    assert not up.path.exists()
    with pytest.raises(InputError, match="unknown"):
        rx.chunk("u1", 3, b"4")


def test_size_limit_names_the_limit_and_the_way_out(receiver):
    receiver.max_bytes = 1000
    with pytest.raises(LimitExceededError, match=r"add_file\(path\)"):
        receiver.start("u1", "big.wav", 5000)


def test_close_drops_partial_files_and_own_folder():
    rx = UploadReceiver()
    up = rx.start("u1", "a.wav", 10)
    rx.chunk("u1", 0, b"1")
    rx.close()
    assert not up.path.exists() and not rx.directory.exists()


@pytest.mark.parametrize(
    ("name", "safe"),
    [("../../etc/passwd", "passwd"), ("C:\\x\\my song.mp3", "my_song.mp3"), ("...", "upload")],
)
def test_names_cannot_escape_the_folder(name, safe):
    assert safe_name(name) == safe


def test_old_uploads_in_a_shared_folder_are_swept(tmp_path):
    import os
    import time

    shared = tmp_path / "uploads"
    first = UploadReceiver(shared)
    for uid in ("old", "new"):
        first.start(uid, "a.wav", 1)
        first.chunk(uid, 0, b"x")
        first.finish(uid)
    week_ago = time.time() - 8 * 24 * 3600
    os.utime(shared / "old", (week_ago, week_ago))
    UploadReceiver(shared)  # a later kernel
    assert not (shared / "old").exists()
    assert (shared / "new" / "a.wav").read_bytes() == b"x"
