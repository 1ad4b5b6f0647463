"""Fixtures for the client tests: the CAMB emulator on loopback, clients tuned for speed, clips.

``service`` is the seam for contract tests: every service listed in ``SERVICES`` must pass
``test_contract.py``: the emulator and the real embedded engine. Another implementation joins
by adding a name to ``SERVICES`` and a branch in ``service``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from camb_notebook.api import AsyncClient, Client, RetryPolicy, TaskStore
from tests.emulator import Emulator

#: Quick retries: same rules, millisecond waits.
FAST_RETRY = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_max=0.05)
FAST: dict[str, Any] = {"retry": FAST_RETRY, "poll_interval": 0.01, "poll_max_interval": 0.05}
SR = 16000


def write_wav(path: Path, seconds: float = 1.0, sr: int = SR, channels: int = 2) -> Path:
    """A deterministic stereo test clip: two tones and a little noise."""
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(3)
    tones = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 277 * t)])[:channels]
    x = 0.3 * tones + 0.01 * rng.standard_normal((channels, t.size))
    sf.write(path, x.T.astype(np.float32), sr, subtype="PCM_16")
    return path


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def store(tmp_path: Path) -> TaskStore:
    return TaskStore(tmp_path / "tasks.sqlite3")


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "song.wav")


@pytest.fixture
def make_client(emulator: Emulator, store: TaskStore) -> Iterator[Callable[..., Client]]:
    """Build blocking clients for the emulator (closed after the test)."""
    made: list[Client] = []

    def make(**kw: Any) -> Client:
        args: dict[str, Any] = {"api_key": emulator.api_key, "base_url": emulator.base_url,
                                "store": store, **FAST}  # fmt: skip
        args.update(kw)
        client = Client(**args)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()


def async_client(emulator: Emulator, store: TaskStore, **kw: Any) -> AsyncClient:
    """An AsyncClient for the emulator (use as ``async with``)."""
    args: dict[str, Any] = {"api_key": emulator.api_key, "base_url": emulator.base_url,
                            "store": store, **FAST}  # fmt: skip
    args.update(kw)
    return AsyncClient(**args)


@dataclass
class Service:
    """A running service speaking the CAMB.AI contract."""

    name: str
    base_url: str
    api_key: str
    emulator: Emulator | None = None


SERVICES = ["emulator", "engine"]


@pytest.fixture(params=SERVICES)
def service(request: pytest.FixtureRequest) -> Iterator[Service]:
    if request.param == "emulator":
        with Emulator() as emu:
            yield Service("emulator", emu.base_url, emu.api_key, emu)
    elif request.param == "engine":
        # The real embedded engine (shared by the whole run, as in a notebook kernel).
        from camb_notebook.engine import local_engine

        engine = local_engine()
        yield Service("engine", engine.base_url, engine.api_key or "")
    else:  # pragma: no cover - a new service was listed without a branch here
        raise AssertionError(f"no fixture branch for service {request.param!r}")
