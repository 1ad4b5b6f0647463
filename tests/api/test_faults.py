"""One test per fault the emulator injects: what the client does, what the user reads, and that
nothing was ever submitted twice."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from camb_notebook import (
    APIError,
    AuthenticationError,
    CancelledError,
    NetworkError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    RequestValidationError,
    ResultExpiredError,
    ServerError,
    SubmitUncertainError,
    TaskFailedError,
    WaitTimeoutError,
)
from camb_notebook._vocabulary import REASONS
from camb_notebook.api import Client, RetryPolicy, TaskStore
from tests.emulator import READONLY_KEY, Emulator

from .conftest import FAST, write_wav

MakeClient = Callable[..., Client]


# -- answers that refuse the request -------------------------------------------------------


def test_401_bad_key_is_not_retried_and_says_how_to_fix(
    make_client: MakeClient, emulator: Emulator, wav: Path
) -> None:
    client = make_client(api_key="wrong-key-123456")
    with pytest.raises(AuthenticationError) as err:
        client.submit(wav)
    assert err.value.status_code == 401
    assert "CAMB_API_KEY" in str(err.value) and "rejected the API key" in str(err.value)
    assert emulator.count("submit") == 1 and emulator.submissions == 0


def test_401_without_key(make_client: MakeClient, emulator: Emulator, wav: Path) -> None:
    client = make_client(api_key="")  # explicit empty key: nothing sent
    with pytest.raises(AuthenticationError, match="401"):
        client.status("any-task")
    assert emulator.requests[-1]["had_key"] is False


def test_403_key_without_permission(make_client: MakeClient, emulator: Emulator, wav: Path) -> None:
    client = make_client(api_key=READONLY_KEY)
    with pytest.raises(AuthenticationError) as err:
        client.submit(wav)
    assert err.value.status_code == 403
    assert "not allowed" in str(err.value) and "permission" in str(err.value)
    assert emulator.submissions == 0 and emulator.count("submit") == 1


def test_422_shows_fastapi_detail_and_is_not_retried(
    client: Client, emulator: Emulator, wav: Path
) -> None:
    detail = [{"type": "missing", "loc": ["body", "media_file"], "msg": "Field required"}]
    emulator.fail_next("submit", 422, body={"detail": detail})
    with pytest.raises(RequestValidationError) as err:
        client.submit(wav)
    assert "body.media_file: Field required" in str(err.value)
    assert err.value.detail == {"detail": detail}
    assert emulator.count("submit") == 1 and emulator.submissions == 0


# -- rate limits and server errors -----------------------------------------------------------


def test_429_retry_after_seconds_is_honoured(
    client: Client, emulator: Emulator, wav: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.fail_next("submit", 429, retry_after=1)
    started = time.monotonic()
    task = client.submit(wav)
    assert time.monotonic() - started >= 0.95  # the server's 1 s, not our 10 ms backoff
    assert task.task_id in emulator._tasks
    assert emulator.count("submit") == 2 and emulator.submissions == 1
    assert "429 Too Many Requests; retrying in 1.00 s" in caplog.text


def test_429_retry_after_ms_wins(client: Client, emulator: Emulator, wav: Path) -> None:
    emulator.fail_next("submit", 429, retry_after=30, retry_after_ms=150)
    started = time.monotonic()
    client.submit(wav)
    assert 0.14 <= time.monotonic() - started < 5
    assert emulator.submissions == 1


def test_429_http_date_retry_after(client: Client, emulator: Emulator, wav: Path) -> None:
    from email.utils import formatdate

    emulator.fail_next("submit", 429, retry_after=formatdate(time.time() + 1, usegmt=True))
    client.submit(wav)
    assert emulator.count("submit") == 2 and emulator.submissions == 1


def test_429_until_attempts_run_out(client: Client, emulator: Emulator, wav: Path) -> None:
    emulator.fail_next("submit", 429, retry_after_ms=10, times=10)
    with pytest.raises(RateLimitError) as err:
        client.submit(wav)
    assert err.value.retry_after == pytest.approx(0.01)
    assert "rate limited" in str(err.value) and "after 4 attempts" in str(err.value)
    assert emulator.count("submit") == 4 and emulator.submissions == 0


def test_429_with_a_long_retry_after_gives_up_at_once(
    make_client: MakeClient, emulator: Emulator, wav: Path
) -> None:
    client = make_client(retry=RetryPolicy(max_retry_after=5))
    emulator.fail_next("submit", 429, retry_after=3600)
    with pytest.raises(RateLimitError, match="wait 3600 s") as err:
        client.submit(wav)
    assert err.value.retry_after == 3600
    assert emulator.count("submit") == 1 and emulator.submissions == 0


@pytest.mark.parametrize("code", [500, 502, 503, 408, 409])
def test_transient_statuses_on_submit_are_retried(
    client: Client, emulator: Emulator, wav: Path, code: int
) -> None:
    emulator.fail_next("submit", code, times=2)
    client.submit(wav)
    assert emulator.count("submit") == 3 and emulator.submissions == 1


def test_form_fields_survive_a_retry(client: Client, emulator: Emulator, wav: Path) -> None:
    emulator.fail_next("submit", 503)
    task = client.submit(wav, "proj", "desc", 7)
    assert emulator.count("submit") == 2 and emulator.submissions == 1
    assert emulator.last_form == {"project_name": "proj", "project_description": "desc",
                                  "folder_id": "7"}  # fmt: skip
    assert emulator.task(task.task_id).media == wav.read_bytes()  # the file was rewound


def test_5xx_until_attempts_run_out(client: Client, emulator: Emulator, wav: Path) -> None:
    emulator.fail_next("submit", 503, times=10)
    with pytest.raises(ServerError, match="503 Service Unavailable after 4 attempts"):
        client.submit(wav)
    assert emulator.submissions == 0


def test_5xx_on_status_is_retried(client: Client, emulator: Emulator, wav: Path) -> None:
    task = client.submit(wav)
    emulator.fail_next("status", 502, times=2)
    assert client.wait(task).succeeded
    assert emulator.submissions == 1


# -- the network breaks ----------------------------------------------------------------------


def test_reset_after_the_body_was_read_is_never_resent(
    client: Client, emulator: Emulator, wav: Path, store: TaskStore
) -> None:
    emulator.fail_next("submit", reset="after_body")
    with pytest.raises(SubmitUncertainError) as err:
        client.separate(wav)
    message = str(err.value)
    assert "NOT sent again" in message and "client.attach(task_id)" in message
    assert "camb-notebook tasks" in message
    assert emulator.count("submit") == 1 and emulator.submissions == 1
    # The attempt is on record, so a re-run of the cell does not upload blindly either ...
    [record] = store.unfinished(client.base_url)
    assert record.state == "UNCERTAIN" and record.content_hash == err.value.content_hash
    with pytest.raises(SubmitUncertainError, match="NOT sent again"):
        client.separate(wav)
    assert emulator.count("submit") == 1
    # ... until the user says so.
    result = client.separate(wav, reuse=False)
    assert result.foreground.is_file() and emulator.submissions == 2


def test_reset_before_the_body_was_sent_is_retried(
    client: Client, emulator: Emulator, tmp_path: Path
) -> None:
    # Bigger than the socket buffers, so the reset provably lands mid-upload.
    big = write_wav(tmp_path / "big.wav", seconds=150, sr=16000, channels=2)  # 9.6 MB
    emulator.fail_next("submit", reset="before_body")
    task = client.submit(big)
    assert emulator.count("submit") == 2 and emulator.submissions == 1
    assert emulator.task(task.task_id).media == big.read_bytes()


def test_reset_on_a_status_poll_is_retried(client: Client, emulator: Emulator, wav: Path) -> None:
    task = client.submit(wav)
    emulator.fail_next("status", reset="now", times=2)
    assert client.wait(task).succeeded
    assert emulator.submissions == 1


def test_connection_refused_is_retried_then_reported(store: TaskStore, wav: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = Client("k-123456", f"http://127.0.0.1:{port}/apis", store=store, **FAST)
    with client, pytest.raises(NetworkError) as err:
        client.submit(wav)
    assert not isinstance(err.value, SubmitUncertainError)
    assert "could not reach http://127.0.0.1" in str(err.value) and "4 attempt" in str(err.value)
    assert store.all() == []


def test_slow_status_answer_times_out_and_is_retried(
    make_client: MakeClient, emulator: Emulator, wav: Path
) -> None:
    client = make_client(timeout=httpx.Timeout(5.0, read=0.3))
    task = client.submit(wav)
    emulator.fail_next("status", delay=1.0)
    assert client.wait(task).succeeded
    assert emulator.submissions == 1


def test_slow_submit_answer_is_uncertain_not_resent(
    make_client: MakeClient, emulator: Emulator, wav: Path
) -> None:
    client = make_client(timeout=httpx.Timeout(5.0, read=0.3))
    emulator.fail_next("submit", delay=1.0)
    with pytest.raises(SubmitUncertainError, match="ReadTimeout"):
        client.submit(wav)
    assert emulator.count("submit") == 1 and emulator.submissions == 1


def test_slow_answer_within_timeout_is_just_slow(
    client: Client, emulator: Emulator, wav: Path
) -> None:
    emulator.fail_next("submit", delay=0.3)
    client.submit(wav)
    assert emulator.count("submit") == 1 and emulator.submissions == 1


# -- odd answers -----------------------------------------------------------------------------


def test_brief_404_after_submit_keeps_polling(
    client: Client, emulator: Emulator, wav: Path
) -> None:
    task = client.submit(wav)
    emulator.fail_next("status", 404, times=3)
    assert client.wait(task.task_id).succeeded  # a bare id: its submit time is in the store
    assert emulator.count("status") >= 5 and emulator.submissions == 1


def test_404_beyond_the_grace_period_is_an_error(
    make_client: MakeClient, emulator: Emulator, wav: Path
) -> None:
    client = make_client(not_found_grace=0.0)
    task = client.submit(wav)
    emulator.fail_next("status", 404)
    with pytest.raises(NotFoundError, match="Check the id"):
        client.wait(task)
    assert emulator.submissions == 1


def test_malformed_status_json_is_retried(client: Client, emulator: Emulator, wav: Path) -> None:
    task = client.submit(wav)
    emulator.fail_next("status", malformed=True, times=2)
    assert client.wait(task).succeeded
    assert emulator.submissions == 1


def test_malformed_status_json_for_good_is_reported(
    client: Client, emulator: Emulator, wav: Path
) -> None:
    task = client.submit(wav)
    emulator.fail_next("status", malformed=True, times=10)
    with pytest.raises(APIError, match="cannot read"):
        client.wait(task)


def test_malformed_submit_json_is_uncertain(client: Client, emulator: Emulator, wav: Path) -> None:
    emulator.fail_next("submit", malformed=True)
    with pytest.raises(SubmitUncertainError, match="no usable answer"):
        client.submit(wav)
    assert emulator.count("submit") == 1 and emulator.submissions == 1


# -- terminal statuses -----------------------------------------------------------------------


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_error_status_carries_reason_and_advice(
    client: Client, emulator: Emulator, wav: Path, reason: str
) -> None:
    emulator.finish_next("ERROR", reason, "details from the service")
    with pytest.raises(TaskFailedError) as err:
        client.separate(wav)
    assert err.value.exception_reason == reason
    assert err.value.service_message == "details from the service"
    assert REASONS[reason].advice in str(err.value)
    assert "details from the service" in str(err.value)
    assert emulator.submissions == 1


def test_source_too_long_says_split_the_clip(client: Client, emulator: Emulator, wav: Path) -> None:
    emulator.finish_next("ERROR", "SOURCE_TOO_LONG", None)
    with pytest.raises(TaskFailedError, match="split the clip"):
        client.separate(wav)


def test_payment_required_status(client: Client, emulator: Emulator, wav: Path) -> None:
    emulator.finish_next("PAYMENT_REQUIRED", None, {"credits": 0})
    with pytest.raises(PaymentRequiredError) as err:
        client.separate(wav)
    assert "top up" in str(err.value) and '"credits": 0' in str(err.value)
    assert err.value.status == "PAYMENT_REQUIRED" and emulator.submissions == 1


def test_timeout_status(client: Client, emulator: Emulator, wav: Path) -> None:
    emulator.finish_next("TIMEOUT")
    with pytest.raises(TaskFailedError, match="ran out of time") as err:
        client.separate(wav)
    assert not isinstance(err.value, PaymentRequiredError) and err.value.status == "TIMEOUT"


def test_unknown_status_is_terminal_and_shown(
    client: Client, emulator: Emulator, wav: Path
) -> None:
    emulator.finish_next("EXPLODED")
    with pytest.raises(TaskFailedError, match="'EXPLODED'"):
        client.separate(wav)
    assert emulator.submissions == 1


def test_failed_task_is_recorded_and_not_reused(
    client: Client, emulator: Emulator, wav: Path, store: TaskStore
) -> None:
    emulator.finish_next("ERROR", "PROCESSING_ERROR")
    with pytest.raises(TaskFailedError):
        client.separate(wav)
    assert store.all()[0].state == "ERROR"
    client.separate(wav)  # a failure is not a reusable result: submit again
    assert emulator.submissions == 2


# -- expired result URLs ---------------------------------------------------------------------


def test_expired_url_on_download(
    client: Client, emulator: Emulator, wav: Path, tmp_path: Path
) -> None:
    status = client.wait(client.submit(wav))
    urls = client.result(status.run_id)
    emulator.expire_urls()
    with pytest.raises(ResultExpiredError) as err:
        client.download(urls, tmp_path / "out")
    assert f"client.result({status.run_id})" in str(err.value) and "403" in str(err.value)
    assert "X-Amz-Signature" not in str(err.value)  # the signature is not echoed
    assert list((tmp_path / "out").glob("*")) == []  # no partial files left
    fresh = client.result(status.run_id)
    files = client.download(fresh, tmp_path / "out")
    assert files.foreground.name == "foreground.flac"
    assert emulator.submissions == 1


def test_separate_refreshes_expired_status_urls_once(make_client: MakeClient, wav: Path) -> None:
    with Emulator(urls_in_status="new") as emu:
        client = make_client(api_key=emu.api_key, base_url=emu.base_url)
        emu.fail_next("file", 403, body=b"<Error><Code>AccessDenied</Code></Error>")
        result = client.separate(wav)
        assert result.foreground.is_file() and result.background.is_file()
        assert emu.count("result") == 1 and emu.submissions == 1


# -- waiting ---------------------------------------------------------------------------------


def test_wait_deadline(wav: Path, store: TaskStore) -> None:
    with Emulator(pending_polls=10_000) as emu:
        client = Client(emu.api_key, emu.base_url, store=store, **FAST)
        with client:
            task = client.submit(wav)
            with pytest.raises(WaitTimeoutError) as err:
                client.wait(task, timeout=0.3)
        assert err.value.task_id == task.task_id
        assert "goes on running" in str(err.value) and f"client.wait({task.task_id!r})" in str(
            err.value
        )
        assert emu.submissions == 1


def test_wait_cancelled_from_another_thread(wav: Path, store: TaskStore) -> None:
    with Emulator(pending_polls=10_000) as emu:
        client = Client(emu.api_key, emu.base_url, store=store, poll_interval=0.05)
        with client:
            task = client.submit(wav)
            cancel = threading.Event()
            threading.Timer(0.3, cancel.set).start()
            started = time.monotonic()
            with pytest.raises(CancelledError, match="cancelled by the caller"):
                client.wait(task, cancel=cancel)
            assert time.monotonic() - started < 2
            [record] = store.unfinished(emu.base_url)  # still re-attachable
            assert record.task_id == task.task_id


#: A back-off long enough that only a cancel can end the wait within the test's bound.
LONG_BACKOFF = 60


def _cancel_soon(seconds: float = 0.3) -> threading.Event:
    cancel = threading.Event()
    threading.Timer(seconds, cancel.set).start()
    return cancel


def test_cancel_during_a_status_retry_back_off(
    make_client: MakeClient, emulator: Emulator, wav: Path
) -> None:
    client = make_client()
    task = client.submit(wav)
    emulator.fail_next("status", 503, retry_after=LONG_BACKOFF)
    started = time.monotonic()
    with pytest.raises(CancelledError, match="cancelled while waiting to retry"):
        client.wait(task, cancel=_cancel_soon())
    assert time.monotonic() - started < LONG_BACKOFF / 2  # the back-off was cut short
    assert emulator.count("status") == 1  # and not followed by another try


def test_cancel_during_a_submit_back_off_never_submits(
    make_client: MakeClient, emulator: Emulator, wav: Path, store: TaskStore
) -> None:
    """A cancelled clip must not be uploaded later, when the back-off ends: it may be paid."""
    client = make_client()
    emulator.fail_next("submit", 429, retry_after=LONG_BACKOFF)
    started = time.monotonic()
    with pytest.raises(CancelledError, match="cancelled while waiting to retry"):
        client.separate(wav, cancel=_cancel_soon())
    assert time.monotonic() - started < LONG_BACKOFF / 2
    assert emulator.count("submit") == 1 and emulator.submissions == 0
    assert store.all() == []


def test_cancel_during_a_download_back_off(
    make_client: MakeClient, emulator: Emulator, wav: Path, tmp_path: Path
) -> None:
    client = make_client()
    status = client.wait(client.submit(wav))
    emulator.fail_next("file", 503, retry_after=LONG_BACKOFF, times=2)  # both stems
    started = time.monotonic()
    with pytest.raises(CancelledError, match="cancelled while waiting to retry"):
        client.download(status, tmp_path / "out", cancel=_cancel_soon())
    assert time.monotonic() - started < LONG_BACKOFF / 2
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_cancelling_a_download_midway_leaves_no_file(
    make_client: MakeClient, emulator: Emulator, tmp_path: Path
) -> None:
    # 8 s of stereo 16 kHz: each FLAC stem is some 300 KB, which a 1 KiB-per-50-ms link
    # would take over a minute to send.
    clip = write_wav(tmp_path / "long.wav", seconds=8.0)
    client = make_client()
    status = client.wait(client.submit(clip))
    emulator.fail_next("file", trickle=0.05, times=2)
    started = time.monotonic()
    with pytest.raises(
        CancelledError, match=r"download of the \w+ stem was cancelled after \d+ bytes"
    ):
        client.download(status, tmp_path / "out", cancel=_cancel_soon(0.5))
    assert time.monotonic() - started < 30
    assert list((tmp_path / "out").iterdir()) == []  # no part file, no half stem
    # Nothing was lost: without the cancel the same download completes.
    files = client.download(status, tmp_path / "again")
    assert files.foreground.stat().st_size > 100_000


def test_progress_callback_sees_progress_to_100(wav: Path, store: TaskStore) -> None:
    seen: list[float | None] = []
    with (
        Emulator(pending_polls=3) as emu,
        Client(emu.api_key, emu.base_url, store=store, **FAST) as c,
    ):
        c.separate(wav, on_progress=lambda st: seen.append(st.progress))
    assert seen == sorted(seen) and seen[-1] == 100.0 and len(seen) == 4


def test_pending_retry_after_spaces_the_polls(wav: Path, store: TaskStore) -> None:
    with Emulator(pending_polls=2, poll_retry_after=0.3) as emu:
        with Client(emu.api_key, emu.base_url, store=store, **FAST) as client:
            client.wait(client.submit(wav))
        times = [r["time"] for r in emu.requests if r["endpoint"] == "status"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 2 and min(gaps) >= 0.28
