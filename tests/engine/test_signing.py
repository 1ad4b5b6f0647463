"""Result URLs are capabilities that expire: no key needed until then, 403 with a reason after,
and any change to the link is caught."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from camb_notebook.engine._signing import UrlSigner

from .conftest import KEY, start, submit, wait_done

URL_TTL = 3.0


@pytest.fixture(scope="module")
def finished(clip: Path) -> Iterator[dict]:
    engine = start(url_ttl=URL_TTL)
    try:
        with httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}) as client:
            status = wait_done(client, submit(client, clip, method="half").json()["task_id"])
            assert status["status"] == "SUCCESS", status
            yield {"status": status, "client": client, "fetched_at": time.time()}
    finally:
        engine.stop()


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


def test_a_result_url_works_without_a_key_until_it_expires(finished: dict):
    status = finished["status"]
    url = status["foreground_audio_url"]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    assert finished["fetched_at"] < expires <= finished["fetched_at"] + URL_TTL + 1
    answer = httpx.get(url)  # no key: the link itself is the permission
    assert answer.status_code == 200 and answer.content[:4] == b"fLaC"
    wav = httpx.get(url.replace("/foreground.flac?", "/foreground.wav?"))
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"  # one link, every format

    while time.time() <= expires + 0.5:
        time.sleep(0.2)
    late = httpx.get(url)
    assert late.status_code == 403
    assert "expired at" in late.json()["detail"] and "fresh link" in late.json()["detail"]
    fresh = finished["client"].get(f"/audio-separation-result/{status['run_id']}").json()
    again = httpx.get(fresh["foreground_audio_url"])
    assert again.status_code == 200 and again.content == answer.content


def test_an_altered_link_is_403(finished: dict):
    url = finished["status"]["background_audio_url"]
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    expires = parse_qs(urlsplit(url).query)["expires"][0]
    forged = [
        _with_query(url, expires=str(int(expires) + 3600)),  # a longer life
        _with_query(url, signature=signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")),
        url.replace("/background.flac?", "/foreground.flac?"),  # the other stem
        url.split("?")[0],  # no signature at all
    ]
    for link in forged:
        answer = httpx.get(link)
        assert answer.status_code == 403, link
        detail = answer.json()["detail"]
        assert "altered" in detail or "not signed" in detail, detail


def test_the_seed_documents_names_are_in_the_status_answer(finished: dict):
    status = finished["status"]
    assert status["foreground_url"] == status["foreground_audio_url"]
    assert status["background_url"] == status["background_audio_url"]


def test_signatures_survive_a_new_signer_on_the_same_folder(tmp_path: Path):
    first = UrlSigner.in_folder(tmp_path)
    query = first.sign("file-id-0123456789", "foreground", int(time.time()) + 60)
    assert UrlSigner.in_folder(tmp_path).check("file-id-0123456789", "foreground", **query) is None
    assert (tmp_path / "signing.key").stat().st_mode & 0o777 == 0o600
    (tmp_path / "elsewhere").mkdir()
    other = UrlSigner.in_folder(tmp_path / "elsewhere")
    assert "altered" in (other.check("file-id-0123456789", "foreground", **query) or "")
