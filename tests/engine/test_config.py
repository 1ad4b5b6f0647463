"""EngineConfig settings that change what the engine answers: public_url, default_format,
min_duration; and the checks on every setting."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
import soundfile as sf

from camb_notebook import ConfigurationError
from camb_notebook.engine import EngineConfig

from .conftest import KEY, start, submit, wait_done, write_clip


def test_public_url_is_the_origin_of_result_urls(clip: Path) -> None:
    """Behind a proxy the engine hands out the proxy's URLs, not its own loopback address."""
    engine = start(public_url="https://separate.example.org/engine/")
    try:
        with httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}) as c:
            status = wait_done(c, submit(c, clip, method="half").json()["task_id"])
            urls = c.get(f"/audio-separation-result/{status['run_id']}").json()
        assert status["status"] == "SUCCESS", status
        for name in ("foreground", "background"):
            for url in (status[f"{name}_audio_url"], urls[f"{name}_audio_url"]):
                assert url.startswith("https://separate.example.org/engine/files/"), url
                assert httpx.URL(url).path.endswith(f"/{name}.flac")  # then the signature
        # The path after the public origin is the engine's own: the proxy forwards it.
        path = status["foreground_audio_url"].removeprefix("https://separate.example.org/engine")
        answer = httpx.get(engine.origin + path)
        assert answer.status_code == 200 and answer.content[:4] == b"fLaC"
    finally:
        engine.stop()


def test_without_public_url_result_urls_point_at_the_engine(engine, clip: Path) -> None:
    with httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}) as c:
        status = wait_done(c, submit(c, clip, method="half").json()["task_id"])
    assert status["foreground_audio_url"].startswith(f"{engine.origin}/files/")


def test_default_format_applies_when_the_request_names_none(clip: Path) -> None:
    engine = start(default_format="wav")
    try:
        with httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}) as c:
            plain = wait_done(c, submit(c, clip, method="half").json()["task_id"])
            asked = wait_done(c, submit(c, clip, method="half", format="flac").json()["task_id"])
        assert httpx.URL(plain["foreground_audio_url"]).path.endswith("/foreground.wav")
        stem = httpx.get(plain["foreground_audio_url"])
        assert stem.headers["content-type"] == "audio/wav" and stem.content[:4] == b"RIFF"
        assert sf.info(io.BytesIO(stem.content)).subtype == "FLOAT"  # 32-bit float
        assert httpx.URL(asked["foreground_audio_url"]).path.endswith("/foreground.flac")  # request
    finally:
        engine.stop()


def test_min_duration_refuses_short_clips_with_the_cloud_reason(tmp_path: Path) -> None:
    engine = start(min_duration=1.0)
    try:
        short = write_clip(tmp_path / "short.wav", seconds=0.5)
        enough = write_clip(tmp_path / "enough.wav", seconds=1.0)
        with httpx.Client(base_url=engine.base_url, headers={"x-api-key": KEY}) as c:
            refused = wait_done(c, submit(c, short, method="half").json()["task_id"])
            accepted = wait_done(c, submit(c, enough, method="half").json()["task_id"])
        assert refused["status"] == "ERROR"
        assert refused["exception_reason"] == "SOURCE_TOO_SHORT"
        assert "0.50 s is shorter than the minimum of 1 s" in refused["message"]
        assert accepted["status"] == "SUCCESS", accepted
    finally:
        engine.stop()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"workers": 0}, "workers=0 must be at least 1"),
        ({"max_queue": -1}, "max_queue=-1 must be 0 or more"),
        ({"max_duration": 0}, "max_duration=0 must be positive"),
        ({"min_duration": -1.0}, "min_duration=-1.0 must be 0 or more"),
        ({"max_bytes": 0}, "max_bytes=0 must be positive"),
        ({"result_ttl": 0}, "result_ttl=0 must be positive"),
        ({"cleanup_interval": 0}, "cleanup_interval=0 > 0"),
        ({"job_timeout": 0}, "job_timeout=0 must be positive or None"),
        ({"default_format": "mp3"}, "default_format='mp3' must be one of"),
        ({"start_method": "fork"}, "start_method='fork' must be 'forkserver', 'spawn' or None"),
    ],
)
def test_bad_settings_are_refused_naming_the_value(changes: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"^EngineConfig: {message}"):
        EngineConfig(**changes)


def test_the_edges_of_the_settings_are_allowed(tmp_path: Path) -> None:
    config = EngineConfig(max_queue=0, min_duration=0.0, job_timeout=None, root=str(tmp_path))
    assert config.root == tmp_path and config.storage_root() == tmp_path
    assert config.replace(default_format="wav").default_format == "wav"
    with pytest.raises(ConfigurationError, match="workers=0"):
        config.replace(workers=0)  # replace() checks again
