"""Work after an answer gives way to the answers being given (bot/slack/listeners/safely.py)."""

from __future__ import annotations

import threading
import time

from bot.slack.listeners import safely
from bot.slack.listeners.safely import Turns


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
