"""Work after an answer gives way to the answers being given (bot/slack/listeners/safely.py)."""

from __future__ import annotations

import socket
import threading
import time

from bot.slack.listeners import safely
from bot.slack.listeners.safely import Turns
from tests.test_listener_threads import until


def taker(turns: Turns) -> threading.Event:
    """A listener's work asking for its turn in a thread of its own; set once it has it."""
    taken = threading.Event()

    def work() -> None:
        turns.take()
        taken.set()

    threading.Thread(target=work, daemon=True).start()
    return taken


def test_a_turn_waits_until_no_request_is_being_answered(monkeypatch):
    monkeypatch.setattr(safely, "GIVE_WAY", 60.0)
    turns = Turns()
    first, second = turns.answering(), turns.answering()
    first.__enter__()
    second.__enter__()
    taken = taker(turns)
    assert not taken.wait(0.3)  # two answers under way
    first.__exit__(None, None, None)
    assert not taken.wait(0.3)  # one still under way
    second.__exit__(None, None, None)
    assert taken.wait(10)


def test_a_turn_waits_until_no_request_was_answered_for_a_while(monkeypatch):
    monkeypatch.setattr(safely, "GIVE_WAY", 60.0)
    monkeypatch.setattr(safely, "QUIET_FOR", 0.5)
    turns = Turns()
    with turns.answering():
        ended = time.monotonic()  # at most when the answer ended
    taken = taker(turns)
    assert not taken.wait(0.2)  # answered a moment ago: the next request may be on its way
    assert taken.wait(10)
    assert time.monotonic() - ended >= 0.5


def test_answers_that_follow_each_other_closely_hold_the_work_back_until_they_stop(monkeypatch):
    """A burst's requests arrive a moment after each other's answers: work waits for the burst
    to end, not for the first gap between two of its answers."""
    monkeypatch.setattr(safely, "GIVE_WAY", 60.0)
    monkeypatch.setattr(safely, "QUIET_FOR", 0.5)
    turns = Turns()
    taken_at: list[float] = []

    def work() -> None:
        turns.take()
        taken_at.append(time.monotonic())

    with turns.answering():
        worker = threading.Thread(target=work, daemon=True)
        worker.start()
    for _ in range(20):  # a gap of 20 ms between each answer and the next request
        time.sleep(0.02)
        with turns.answering():
            time.sleep(0.005)
            burst_ended = time.monotonic()  # at most when the last answer ended
    worker.join(10)
    assert taken_at and taken_at[0] >= burst_ended + 0.5


def test_a_turn_is_given_without_waiting_when_nothing_is_answered(monkeypatch):
    monkeypatch.setattr(safely, "GIVE_WAY", 60.0)
    turns = Turns()
    with turns.answering():
        pass
    assert taker(turns).wait(10)


def test_under_load_that_never_stops_work_still_gets_its_turn(monkeypatch):
    monkeypatch.setattr(safely, "GIVE_WAY", 0.2)
    turns = Turns()
    with turns.answering():
        started = time.monotonic()
        taken = taker(turns)
        assert taken.wait(10)
        assert time.monotonic() - started >= 0.2


def test_one_turn_at_a_time_whatever_the_answers(monkeypatch):
    monkeypatch.setattr(safely, "GIVE_WAY", 60.0)
    turns = Turns(1)
    assert taker(turns).wait(10)
    waiting = taker(turns)
    assert not waiting.wait(0.3)  # the first holds the only turn
    turns.give_back()
    assert waiting.wait(10)


def test_those_waiting_for_the_turn_give_way_side_by_side(monkeypatch):
    monkeypatch.setattr(safely, "GIVE_WAY", 0.5)
    turns = Turns(1)
    done = []

    def work() -> None:
        turns.take()
        done.append(time.monotonic())
        turns.give_back()

    with turns.answering():  # answers that never end: each taker gives way its half second
        started = time.monotonic()
        workers = [threading.Thread(target=work, daemon=True) for _ in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(10)
    assert len(done) == 6
    # Side by side: about half a second for all six, where one after the other would take three.
    assert 0.5 <= max(done) - started < 2.0


class Counted:
    """A lock or condition of `Turns`, counting the threads that asked for it or wait in it."""

    def __init__(self, inner) -> None:
        self.inner, self.asked, self.waiting = inner, 0, 0

    def acquire(self, *args, **kwargs):
        self.asked += 1
        return self.inner.acquire(*args, **kwargs)

    def release(self) -> None:
        self.inner.release()

    def wait_for(self, predicate, timeout=None):
        self.waiting += 1
        try:
            return self.inner.wait_for(predicate, timeout)
        finally:
            self.waiting -= 1

    def wait(self, timeout=None):
        self.waiting += 1
        try:
            return self.inner.wait(timeout)
        finally:
            self.waiting -= 1

    def __enter__(self):
        return self.inner.__enter__()

    def __exit__(self, *exc):
        return self.inner.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_only_the_holder_of_the_turn_waits_for_the_answers_to_end(monkeypatch):
    """Every other listener waits for the turn itself: the end of an answer wakes one thread,
    not every listener that answered and waits to go on."""
    monkeypatch.setattr(safely, "GIVE_WAY", 60.0)
    turns = Turns(1)
    turns._free, turns._quiet = Counted(turns._free), Counted(turns._quiet)
    answer = turns.answering()
    answer.__enter__()
    takers = [taker(turns) for _ in range(20)]
    assert until(lambda: turns._free.asked == 20), "each taker asks for the turn at once"
    assert until(lambda: turns._quiet.waiting == 1)
    assert turns._quiet.waiting == 1 and not any(taken.is_set() for taken in takers)
    answer.__exit__(None, None, None)
    assert until(lambda: sum(taken.is_set() for taken in takers) == 1)
    for given in range(2, 21):  # each one given back goes at once to the next: nothing is answered
        turns.give_back()
        assert until(lambda given=given: sum(taken.is_set() for taken in takers) == given)


def test_a_request_is_being_answered_from_its_arrival_over_http(hub, monkeypatch):
    """While its body is still arriving (read, then checked, before Bolt dispatches it), work
    after earlier answers does not take its turn."""
    monkeypatch.setattr(safely, "GIVE_WAY", 60.0)
    turns = hub.app.turns
    host, port = hub.url.split("//", 1)[1].split("/", 1)[0].split(":")
    body = b'{"type": "event_callback"}'
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        head = (
            f"POST /slack/events HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Slack-Request-Timestamp: {int(time.time())}\r\nX-Slack-Signature: v0={'0' * 64}\r\n\r\n"
        )
        connection.sendall(head.encode() + body[:5])
        assert until(lambda: not turns.quiet()), "counted as being answered while its body arrives"
        taken = taker(turns)
        assert not taken.wait(0.3)
        connection.sendall(body[5:])
        assert connection.recv(4096).startswith(b"HTTP/1.1 401")  # a wrong signature
    assert taken.wait(10)
    assert turns.quiet()
