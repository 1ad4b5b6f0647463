"""The API key never shows: not in a repr, a log line, an exception, the task store or a file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from camb_notebook import AuthenticationError, SubmitUncertainError
from camb_notebook.api import AsyncClient, Client, Settings, TaskStore, resolve_settings
from tests.emulator import Emulator

from .conftest import FAST

KEY = "sk-live-7c1f0e9a2b4d4e8f9a0b"


def test_key_stays_out_of_reprs_logs_errors_and_files(
    wav: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    store = TaskStore(tmp_path / "tasks.sqlite3")
    emu = Emulator(keys={KEY: {"submit", "read"}})
    texts: list[str] = []
    with emu, Client(KEY, emu.base_url, store=store, **FAST) as client:
        texts += [repr(client), str(client), repr(client._core.settings)]
        emu.fail_next("status", 503)
        result = client.separate(wav, out_dir=tmp_path / "out")
        texts += [repr(result), result._plain_text(), repr(store.all())]
        # A service that echoes the key back in its error body.
        emu.fail_next("submit", 401, body={"detail": f"key {KEY} is revoked"})
        with pytest.raises(AuthenticationError) as auth:
            client.submit(wav)
        emu.fail_next("submit", reset="after_body")
        with pytest.raises(SubmitUncertainError) as uncertain:
            client.submit(wav)
        texts += [str(auth.value), repr(auth.value), str(uncertain.value), repr(auth.value.body)]
    assert "***" in str(auth.value)
    texts.append(caplog.text)
    assert caplog.text  # something was logged, so the check below means something
    for text in texts:
        assert KEY not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_async_client_repr() -> None:
    client = AsyncClient(KEY, "http://127.0.0.1:9/apis", store=False)
    assert repr(client) == "AsyncClient(base_url='http://127.0.0.1:9/apis', api_key='***')"
    assert KEY not in repr(resolve_settings(KEY))
    assert isinstance(resolve_settings(KEY), Settings)
