"""The CAMB.AI contract (DESIGN.md §1), checked against every service in ``conftest.SERVICES``.

These tests use only the public client and plain HTTP, so any implementation of the contract
(the emulator, the local engine, a ``camb-notebook serve`` box) can be plugged in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from camb_notebook import AuthenticationError, NotFoundError
from camb_notebook.api import Client, TaskStore
from camb_notebook.audio import load, sdr

from .conftest import FAST, Service


@pytest.fixture
def contract_client(service: Service, tmp_path: Path) -> Iterator[Client]:
    client = Client(service.api_key, service.base_url, store=TaskStore(tmp_path / "t.sqlite3"),
                    **{**FAST, "poll_max_interval": 0.5})  # fmt: skip
    yield client
    client.close()


def test_round_trip(contract_client: Client, wav: Path, tmp_path: Path) -> None:
    task = contract_client.submit(wav)
    status = contract_client.wait(task, timeout=120)
    assert status.succeeded and isinstance(status.run_id, int)
    files = contract_client.download(status, tmp_path / "stems")
    x, sr = load(wav)
    stems = contract_client.separate(wav).stems()  # reused from the store: same files
    assert stems.sr == sr and stems.foreground.shape == x.shape
    assert sdr(x, stems.foreground + stems.background) > 10.0  # the stems sum back
    for path in files:
        decoded, rate = load(path)
        assert decoded.shape[0] == x.shape[0] and rate > 0
    # Terminal is terminal: a later poll says the same.
    assert contract_client.status(task).status == "SUCCESS"


def test_result_endpoints(contract_client: Client, wav: Path) -> None:
    status = contract_client.wait(contract_client.submit(wav), timeout=120)
    urls = contract_client.result(status.run_id)
    batch = contract_client.results([status.run_id])
    assert set(batch) == {status.run_id}
    # Pre-signed: fetched without the key.
    for url in (urls.foreground_url, batch[status.run_id].background_url):
        answer = httpx.get(url, timeout=30)
        assert answer.status_code == 200 and len(answer.content) > 1000


def test_unknown_task_is_404(contract_client: Client) -> None:
    with pytest.raises(NotFoundError):
        contract_client.status("0000-no-such-task")


def test_key_is_required(service: Service, wav: Path) -> None:
    for key in ("", "not-the-key-000"):
        with (
            Client(key, service.base_url, store=False) as client,
            pytest.raises(AuthenticationError, match="401"),
        ):
            client.submit(wav)


def test_media_file_is_the_field_and_422_is_fastapi_shaped(service: Service, wav: Path) -> None:
    answer = httpx.post(
        f"{service.base_url}/audio-separation",
        headers={"x-api-key": service.api_key},
        files={"wrong_field": ("song.wav", wav.read_bytes(), "audio/wav")},
        timeout=30,
    )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert any(d["loc"][-1] == "media_file" and d["type"] == "missing" for d in detail)
    ok = httpx.post(
        f"{service.base_url}/audio-separation",
        headers={"x-api-key": service.api_key},
        files={"media_file": ("song.wav", wav.read_bytes(), "audio/wav")},
        timeout=30,
    )
    assert ok.status_code == 200 and isinstance(ok.json()["task_id"], str)


def test_status_answer_shape(service: Service, contract_client: Client, wav: Path) -> None:
    task = contract_client.submit(wav)
    raw = httpx.get(
        f"{service.base_url}/audio-separation/{task.task_id}",
        headers={"x-api-key": service.api_key},
        timeout=30,
    ).json()
    assert raw["status"] in {"PENDING", "SUCCESS"}
    assert {"status", "run_id", "exception_reason", "message"} <= set(raw)
    if "progress" in raw:  # optional in the contract (the cloud leaves it out): a percentage
        assert isinstance(raw["progress"], (int, float)) and 0 <= raw["progress"] <= 100
    contract_client.wait(task, timeout=120)
    final = contract_client.status(task)
    # Both services listed in SERVICES report progress, and a finished task is at 100 %.
    assert final.raw["progress"] == 100
    assert final.progress == 100.0
