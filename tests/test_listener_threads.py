"""Where listeners run (bot/slack/listener_threads.py): a thread no other listener is using,
reused once its listener ends, and listeners finished before the process exits."""

from __future__ import annotations

import contextvars
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.slack import listener_threads
from bot.slack.listener_threads import ThreadPerListener, answered

ROOT = Path(__file__).resolve().parent.parent


def until(condition, timeout: float = 10.0) -> bool:
    """Whether `condition` came true within `timeout` seconds (looked at every 10 ms)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_thread_whose_listener_ended_runs_the_next_one():
    executor = ThreadPerListener()
    try:
        first = executor.submit(threading.get_ident).result(10)
        assert until(lambda: executor._idle == 1)  # back, waiting for the next listener
        second = executor.submit(threading.get_ident).result(10)
        assert first == second
        assert len(executor._threads) == 1
    finally:
        executor.shutdown()


def test_a_listener_still_at_work_never_holds_up_the_next():
    executor = ThreadPerListener()
    release = threading.Event()

    def answers_then_waits() -> int:
        answered()  # answered Slack; now waits (for its turn, for Slack)
        release.wait(30)
        return threading.get_ident()

    try:
        waiting = [executor.submit(answers_then_waits) for _ in range(5)]
        started = time.monotonic()
        next_one = executor.submit(threading.get_ident).result(10)
        assert time.monotonic() - started < listener_threads.ANSWER_WITHIN
        release.set()
        busy = {future.result(10) for future in waiting}
        assert len(busy) == 5 and next_one not in busy
    finally:
        release.set()
        executor.shutdown()


def test_a_thread_idle_for_long_ends(monkeypatch):
    monkeypatch.setattr(listener_threads, "IDLE_FOR", 0.1)
    executor = ThreadPerListener()
    executor.submit(int).result(10)
    assert until(lambda: not executor._threads)
    assert executor._idle == 0
    assert executor.submit(lambda: 42).result(10) == 42  # a new thread for the next one


def test_listeners_submitted_as_threads_time_out_all_run(monkeypatch):
    """Threads deciding to end while listeners are handed to them: none is lost."""
    monkeypatch.setattr(listener_threads, "IDLE_FOR", 0.001)
    executor = ThreadPerListener()
    try:
        for n in range(300):
            assert executor.submit(lambda n=n: n).result(10) == n
            if n % 10 == 0:
                time.sleep(0.002)  # long enough for idle threads to time out
    finally:
        executor.shutdown()
    assert until(lambda: not executor._threads)


class TimingOutOnce:
    """The executor's queue, whose next wait runs out exactly while `meanwhile` happens."""

    def __init__(self, inner: queue.SimpleQueue, meanwhile) -> None:
        self.inner, self.meanwhile = inner, meanwhile

    def get(self, timeout=None):
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
            raise queue.Empty
        return self.inner.get(timeout=timeout)

    def put(self, item) -> None:
        self.inner.put(item)

    def empty(self) -> bool:
        return self.inner.empty()


def test_a_listener_handed_over_as_the_thread_times_out_and_the_executor_shuts_down_runs():
    executor = ThreadPerListener()
    handed = []

    def meanwhile() -> None:
        handed.append(executor._begin(lambda: "ran")[0])  # to the idle thread, whose wait runs out
        executor.shutdown(wait=False)

    executor.submit(int).result(10)
    assert until(lambda: executor._idle == 1)
    executor._jobs = TimingOutOnce(executor._jobs, meanwhile)
    with executor._threads_lock:  # a listener of its own, to have the idle thread wait again
        executor._idle -= 1
        executor._jobs.put(int)
    assert until(lambda: len(handed) == 1)
    assert handed[0].result(10) == "ran"
    assert until(lambda: not executor._threads) and executor._idle == 0


def test_shutdown_waits_for_the_listeners_at_work():
    executor = ThreadPerListener()
    finished = []

    def work() -> None:
        answered()
        time.sleep(0.3)
        finished.append(True)

    executor.submit(work)
    executor.shutdown(wait=True)
    assert finished == [True]


def test_a_process_that_exits_finishes_the_work_it_answered_for(tmp_path):
    """The threads are daemons: without the wait at exit, the interpreter would drop them."""
    done = tmp_path / "done"
    script = f"""
import time
from bot.slack.listener_threads import ThreadPerListener, answered

def work():
    answered()
    time.sleep(0.5)
    open({str(done)!r}, "w").write("finished")

ThreadPerListener().submit(work)
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert done.read_text() == "finished"


def test_work_handed_over_runs_in_order_in_a_few_threads_each_in_its_own_context(monkeypatch, caplog):
    """At most HANDED_AT_ONCE threads, the work in the order it came, each piece in the context
    of whoever handed it over; a failure is logged and the next piece runs."""
    monkeypatch.setattr(listener_threads, "HANDED_AT_ONCE", 1)
    executor = ThreadPerListener()
    field: contextvars.ContextVar[int] = contextvars.ContextVar("field")
    held, ran = threading.Event(), []

    def work(n: int) -> None:
        held.wait(10)
        if n == 2:
            raise RuntimeError("the second piece fails")
        ran.append((n, field.get()))

    try:
        for n in range(5):
            field.set(n)
            executor.hand_over(work, n)
        assert len(executor._threads) == 1 and executor._handing == 1
        held.set()
        assert until(lambda: executor._handing == 0)
    finally:
        executor.shutdown()
    assert ran == [(0, 0), (1, 1), (3, 3), (4, 4)]
    assert "work handed over after an answer failed" in caplog.text


def test_a_hand_over_that_gets_no_thread_leaves_none_counted(monkeypatch):
    monkeypatch.setattr(listener_threads, "HANDED_AT_ONCE", 1)
    executor = ThreadPerListener()
    begin = executor._begin

    def no_thread(*_args, **_kwargs):
        raise RuntimeError("can't start new thread")

    try:
        monkeypatch.setattr(executor, "_begin", no_thread)
        with pytest.raises(RuntimeError):
            executor.hand_over(int)
        assert executor._handing == 0
        monkeypatch.setattr(executor, "_begin", begin)
        ran = threading.Event()
        executor.hand_over(ran.set)  # runs what waited too
        assert ran.wait(10) and until(lambda: executor._handing == 0 and not executor._handed)
    finally:
        executor.shutdown()
