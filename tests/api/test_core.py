"""The polling rules of the sans-I/O core, step by step on a clock the test controls.

``Core.wait`` yields effects (requests, pauses); here a small interpreter answers each status
request from a script and records every pause, so the rules can be checked to the second
without waiting. Polling against real servers is in test_client/test_faults/test_contract.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from camb_notebook import (
    CancelledError,
    InputError,
    NotFoundError,
    TaskFailedError,
    WaitTimeoutError,
)
from camb_notebook.api import RetryPolicy, Task, TaskStatus, TaskStore, _core
from camb_notebook.api._core import Core
from camb_notebook.api._effects import Notify, Offload, Send, Sleep
from camb_notebook.api._settings import Settings

BASE = "http://svc.test/apis"


class Clock:
    """Stands in for the ``time`` module inside the core: only pauses move it."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(_core, "time", fake)
    return fake


def answer(status: str | int, headers: dict[str, str] | None = None, **fields: Any) -> Any:
    """A status answer (a dict of fields), or an error status code with its body."""
    if isinstance(status, int):
        return httpx.Response(status, json={"detail": "Task not found"}, headers=headers)
    return httpx.Response(200, json={"status": status, **fields}, headers=headers)


class Run:
    """Drive one flow: answer Send from *script*, pass time on Sleep, run the rest."""

    def __init__(
        self,
        clock: Clock,
        script: list[httpx.Response],
        cancel: threading.Event | None = None,
        cancel_on_sleep: int = -1,
    ):
        self.clock = clock
        self.script: Iterator[httpx.Response] = iter(script)
        self.sleeps: list[float] = []
        self.interrupted: list[bool] = []  # per pause: did its own cancel event end it?
        self.requests: list[httpx.Request] = []
        self.notified: list[Any] = []
        self.cancel = cancel  # set by "the user" during pause number *cancel_on_sleep*
        self.cancel_on_sleep = cancel_on_sleep

    def __call__(self, flow: Any) -> Any:
        value: Any = None
        while True:
            try:
                effect = flow.send(value)
            except StopIteration as done:
                return done.value
            if isinstance(effect, Send):
                self.requests.append(effect.request)
                value = next(self.script)
                value.request = effect.request
            elif isinstance(effect, Sleep):
                self.sleeps.append(effect.seconds)
                self.clock.now += effect.seconds
                if self.cancel is not None and len(self.sleeps) == self.cancel_on_sleep:
                    self.cancel.set()
                # As the clients do: a pause ends early when *its* cancel event is set.
                value = effect.cancel is not None and effect.cancel.is_set()
                self.interrupted.append(value)
            elif isinstance(effect, Notify):
                self.notified.append(effect.value)
                value = effect.callback(effect.value)
            elif isinstance(effect, Offload):
                value = effect.fn()
            else:  # pragma: no cover - wait yields nothing else
                raise AssertionError(effect)


def core(store: TaskStore | None = None, retry: RetryPolicy | None = None, **kw: Any) -> Core:
    options = {"poll_interval": 1.0, "poll_max_interval": 10.0, "not_found_grace": 30.0, **kw}
    policy = retry or RetryPolicy(max_attempts=1)
    return Core(Settings(BASE, "k-test-0001", "custom"), retry=policy, store=store, **options)


def test_polls_grow_by_half_up_to_the_longest_pause(clock: Clock) -> None:
    run = Run(clock, [answer("PENDING")] * 8 + [answer("SUCCESS", run_id=3)])
    status = run(core().wait("t-1"))
    assert status.succeeded and status.run_id == 3 and status.task_id == "t-1"
    assert run.sleeps == [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 10.0, 10.0]
    assert [r.url.path for r in run.requests] == ["/apis/audio-separation/t-1"] * 9
    assert all(r.headers["x-api-key"] == "k-test-0001" for r in run.requests)


def test_the_first_pause_is_the_poll_interval(clock: Clock) -> None:
    run = Run(clock, [answer("PENDING")] * 3 + [answer("SUCCESS")])
    run(core(poll_interval=0.25, poll_max_interval=0.5).wait("t"))
    assert run.sleeps == [0.25, 0.375, 0.5]


def test_retry_after_on_a_pending_answer_stretches_one_pause(clock: Clock) -> None:
    script = [
        answer("PENDING", {"Retry-After": "4"}),  # longer than our pause: honoured
        answer("PENDING", {"Retry-After": "0.5"}),  # shorter: our own pause
        answer("PENDING"),
        answer("SUCCESS"),
    ]
    run = Run(clock, script)
    run(core().wait("t"))
    assert run.sleeps == [4.0, 1.5, 2.25]  # the hint does not reset the growth


def test_timeout_cuts_the_last_pause_and_names_the_task(clock: Clock) -> None:
    run = Run(clock, [answer("PENDING")] * 10)
    with pytest.raises(WaitTimeoutError) as err:
        run(core().wait("t-7", timeout=3.0))
    # 1 + 1.5 and then the 0.5 s left, one last poll at the deadline, then the error.
    assert run.sleeps == [1.0, 1.5, 0.5] and len(run.requests) == 4
    assert err.value.task_id == "t-7"
    assert str(err.value).startswith(
        "task t-7 is still PENDING after the timeout of 3.0 s; it goes on running at the "
        "service. Wait again with client.wait('t-7')"
    )


def test_a_terminal_answer_at_the_deadline_still_counts(clock: Clock) -> None:
    run = Run(clock, [answer("PENDING"), answer("SUCCESS")])
    assert run(core().wait("t", timeout=1.0)).succeeded
    assert run.sleeps == [1.0]


def test_a_failed_task_raises_with_its_reason(clock: Clock) -> None:
    run = Run(clock, [answer("PENDING"), answer("ERROR", exception_reason="SOURCE_TOO_LONG")])
    with pytest.raises(TaskFailedError) as err:
        run(core().wait("t"))
    assert err.value.exception_reason == "SOURCE_TOO_LONG"


@pytest.mark.parametrize("age", [0.0, 29.0, 30.0])
def test_a_404_soon_after_submitting_means_not_registered_yet(clock: Clock, age: float) -> None:
    task = Task("t-new", BASE, submitted_at=clock.time() - age)
    run = Run(clock, [answer(404), answer("PENDING"), answer("SUCCESS")])
    # Ages are judged when each 404 arrives: 30 s is still within the grace.
    assert run(core().wait(task)).succeeded
    assert run.sleeps == [1.0, 1.5]


def test_a_404_after_the_grace_is_an_error(clock: Clock) -> None:
    task = Task("t-old", BASE, submitted_at=clock.time() - 30.5)
    run = Run(clock, [answer(404)])
    with pytest.raises(NotFoundError):
        run(core().wait(task))
    assert run.sleeps == []
    # The same when the grace runs out while polling.
    fresh = Task("t-gone", BASE, submitted_at=clock.time())
    run = Run(clock, [answer(404)] * 20)
    with pytest.raises(NotFoundError):
        run(core(not_found_grace=5.0).wait(fresh))
    assert run.sleeps == [1.0, 1.5, 2.25, 3.375]  # 404s at 0, 1, 2.5, 4.75, then 8.125 > 5


def test_a_bare_task_id_takes_its_submission_time_from_the_store(
    clock: Clock, tmp_path: Path
) -> None:
    store = TaskStore(tmp_path / "t.sqlite3")
    store.record_submitted(Task("t-s", BASE, "a.wav", "h", submitted_at=clock.time() - 100))
    run = Run(clock, [answer(404)])
    with pytest.raises(NotFoundError):  # 100 s old: past the grace, known from the store
        run(core(store).wait("t-s"))
    run = Run(clock, [answer(404), answer("SUCCESS")])
    store.record_submitted(Task("t-r", BASE, "b.wav", "h2", submitted_at=clock.time()))
    assert run(core(store).wait("t-r")).succeeded


def test_every_status_is_reported_and_remembered(clock: Clock, tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "t.sqlite3")
    store.record_submitted(Task("t-p", BASE, "a.wav", "h", submitted_at=clock.time()))
    seen: list[TaskStatus] = []
    run = Run(clock, [answer("PENDING", progress=40), answer("SUCCESS", run_id=9)])
    run(core(store).wait("t-p", on_progress=seen.append))
    assert [(s.status, s.progress) for s in seen] == [("PENDING", 40.0), ("SUCCESS", None)]
    record = store.get(BASE, "t-p")
    assert record is not None and (record.state, record.run_id) == ("SUCCESS", 9)


def test_cancel_before_the_first_poll_sends_nothing(clock: Clock) -> None:
    cancel = threading.Event()
    cancel.set()
    run = Run(clock, [])
    with pytest.raises(CancelledError, match="stopped waiting for task t-c") as err:
        run(core().wait("t-c", cancel=cancel))
    assert run.requests == [] and err.value.task_id == "t-c"


def test_cancel_during_a_pause_stops_polling(clock: Clock) -> None:
    cancel = threading.Event()
    run = Run(clock, [answer("PENDING")] * 5, cancel=cancel, cancel_on_sleep=2)
    with pytest.raises(CancelledError, match=r"client\.wait\('t-c'\)"):
        run(core().wait("t-c", cancel=cancel))
    assert len(run.requests) == 2 and run.sleeps == [1.0, 1.5]
    # The pause itself carries the cancel event, so a real client's sleep ends at the cancel
    # instead of running its full length (up to poll_max_interval) before the check.
    assert run.interrupted == [False, True]


def test_cancel_during_a_status_retry_back_off(clock: Clock) -> None:
    """The cancel reaches the status call's own back-off too, not only the poll pauses."""
    cancel = threading.Event()
    policy = RetryPolicy(max_attempts=3, backoff_base=2.0, jitter=False)
    run = Run(clock, [answer(503)] * 3, cancel=cancel, cancel_on_sleep=1)
    with pytest.raises(CancelledError, match="cancelled while waiting to retry"):
        run(core(retry=policy).wait("t-b", cancel=cancel))
    assert run.sleeps == [2.0] and len(run.requests) == 1


def test_the_defaults_poll_every_second_up_to_ten(clock: Clock) -> None:
    plain = Core(Settings(BASE, "k-test-0001", "custom"), retry=RetryPolicy(), store=None)
    assert (plain.poll_interval, plain.poll_max_interval, plain.not_found_grace) == (1, 10, 30)
    run = Run(clock, [answer("PENDING")] * 8 + [answer("SUCCESS")])
    run(plain.wait("t"))
    assert run.sleeps[0] == 1.0 and run.sleeps[-2:] == [10.0, 10.0]


@pytest.mark.parametrize(("interval", "longest"), [(0.0, 10.0), (-1.0, 10.0), (2.0, 1.0)])
def test_poll_intervals_are_checked(interval: float, longest: float) -> None:
    with pytest.raises(InputError) as err:
        core(poll_interval=interval, poll_max_interval=longest)
    assert str(err.value) == (
        f"poll_interval={interval} must be > 0 and at most poll_max_interval={longest}"
    )


def test_poll_intervals_may_be_equal() -> None:
    c = core(poll_interval=2.0, poll_max_interval=2.0, not_found_grace=7.0)
    assert (c.poll_interval, c.poll_max_interval, c.not_found_grace) == (2.0, 2.0, 7.0)
    assert c.base_url == BASE and c.store is None and c.retry.max_attempts == 1
