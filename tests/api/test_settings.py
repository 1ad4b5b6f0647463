"""Which service a client talks to, from arguments, environment and defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from camb_notebook import ConfigurationError
from camb_notebook._exceptions import redact
from camb_notebook.api import Client, resolve_settings
from tests.emulator import Emulator


def test_key_alone_means_the_cloud() -> None:
    s = resolve_settings("sk-abcdef")
    assert (s.base_url, s.origin) == ("https://client.camb.ai/apis", "cloud")
    assert redact("x sk-abcdef y") == "x *** y"  # registered as a secret


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMB_API_KEY", "sk-from-env-123")
    monkeypatch.setenv("CAMB_BASE_URL", "http://127.0.0.1:8750/apis/")
    s = resolve_settings()
    assert (s.api_key, s.base_url, s.origin) == ("sk-from-env-123", "http://127.0.0.1:8750/apis",
                                                 "custom")  # fmt: skip
    assert resolve_settings("sk-arg-4567", "https://x.example/apis").api_key == "sk-arg-4567"


def test_cloud_without_a_key() -> None:
    with pytest.raises(
        ConfigurationError, match="needs an API key: pass api_key= or set CAMB_API_KEY"
    ):
        resolve_settings(base_url="https://client.camb.ai/apis")


@pytest.mark.parametrize("url", ["client.camb.ai/apis", "ftp://h/apis", "http://", "::"])
def test_bad_base_url(url: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url="):
        resolve_settings("sk-abcdef", url)


def test_neither_key_nor_url_means_no_service() -> None:
    assert resolve_settings() is None  # the client layer starts nothing
    with pytest.raises(ConfigurationError, match=r"camb_notebook.connect\(\)"):
        Client()


def test_paths_are_joined_under_the_base_url(wav: Path, store: object) -> None:
    with Emulator() as emu:
        # A base URL with a trailing slash still yields /apis/audio-separation.
        with Client(emu.api_key, emu.base_url + "/", store=False) as client:
            client.submit(wav)
        assert emu.requests[0]["path"] == "/apis/audio-separation"
