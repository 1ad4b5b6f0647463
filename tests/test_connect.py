"""Choosing a service and making a client: the one place that joins the client and the engine."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import camb_notebook
from camb_notebook import ConfigurationError, InputError, choose_service, connect, separate
from camb_notebook._exceptions import redact
from tests.api.conftest import write_wav
from tests.emulator import Emulator

KEY = "sk-connect-test-4567"


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "clip.wav")


def test_the_choice_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import camb_notebook.engine as engine

    monkeypatch.setattr(engine, "local_engine", lambda: pytest.fail("started an engine"))
    assert choose_service().origin == "engine"
    assert choose_service(backend="local", api_key=KEY).origin == "engine"
    cloud = choose_service(api_key=KEY)
    assert (cloud.origin, cloud.label, cloud.settings.base_url) == (
        "cloud",
        "CAMB.AI cloud",
        "https://client.camb.ai/apis",
    )
    custom = choose_service(KEY, "http://user:pw@lab.example:8750/apis")
    assert (custom.origin, custom.label) == ("custom", "lab.example")  # no credentials shown
    monkeypatch.setenv("CAMB_BASE_URL", "http://127.0.0.1:9/apis")
    assert choose_service().origin == "custom"  # the environment counts as given


def test_cloud_backend_needs_a_key() -> None:
    with pytest.raises(ConfigurationError, match="needs an API key"):
        choose_service(backend="cloud")
    assert choose_service(KEY, "http://ignored.example/apis", backend="cloud").origin == "cloud"


def test_unknown_backend_is_named() -> None:
    with pytest.raises(InputError, match="backend='gpu'") as err:
        choose_service(backend="gpu")  # type: ignore[arg-type]
    assert (err.value.parameter, err.value.value) == ("backend", "gpu")


def test_neither_key_nor_url_means_the_local_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    import camb_notebook.engine as engine

    handle = SimpleNamespace(base_url="http://127.0.0.1:5555/apis", api_key="engine-key-9876")
    monkeypatch.setattr(engine, "local_engine", lambda: handle)
    with connect(store=False) as client:
        assert (client.base_url, client.origin) == (handle.base_url, "engine")
        assert "engine-key-9876" not in repr(client)
    assert redact("engine-key-9876") == "***"


def test_connect_reaches_the_real_embedded_engine() -> None:
    with connect(store=False) as client:
        info = client._http.get(f"{client.base_url}/engine", headers={"x-api-key": "wrong"})
        assert info.status_code == 401  # a real engine, guarded by its own random key
        assert client.origin == "engine"


def test_top_level_separate_uses_the_environment(
    wav: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with Emulator() as emu:
        monkeypatch.setenv("CAMB_API_KEY", emu.api_key)
        monkeypatch.setenv("CAMB_BASE_URL", emu.base_url)
        result = separate(wav, out_dir=tmp_path / "out")
        assert result.base_url == emu.base_url and result.foreground.is_file()


def test_root_exports_come_from_the_connect_layer() -> None:
    from camb_notebook import _connect

    for name in ("connect", "connect_async", "separate", "separate_many", "choose_service"):
        assert getattr(camb_notebook, name) is getattr(_connect, name)
