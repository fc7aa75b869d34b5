"""A piece of work asked for again while it runs is done once more after it, not once per ask."""

from __future__ import annotations

import threading

import pytest

from bot.app.coalesce import Coalescer


def test_asks_while_the_work_runs_make_one_more_round_after_it():
    coalescer, started, go_on = Coalescer(), threading.Event(), threading.Event()
    rounds: list[int] = []

    def work() -> None:
        rounds.append(len(rounds) + 1)
        if len(rounds) == 1:
            started.set()
            assert go_on.wait(10)

    rounds_done: list[bool] = []
    first = threading.Thread(target=lambda: rounds_done.append(coalescer.run("U1", work)))
    first.start()
    assert started.wait(10)
    # Five asks while the first round runs: none waits, none runs the work itself.
    assert [coalescer.run("U1", work) for _ in range(5)] == [False] * 5
    # Another key is not held up by this one.
    other: list[str] = []
    assert coalescer.run("U2", lambda: other.append("U2")) is True and other == ["U2"]
    go_on.set()
    first.join(10)
    assert rounds_done == [True] and rounds == [1, 2]  # the asks made exactly one more round
    assert coalescer.run("U1", work) is True and rounds == [1, 2, 3]  # and the key is free again


def test_a_failing_round_frees_its_key():
    coalescer = Coalescer()

    def fail() -> None:
        raise RuntimeError("Slack is down")

    with pytest.raises(RuntimeError):
        coalescer.run("U1", fail)
    done: list[str] = []
    assert coalescer.run("U1", lambda: done.append("again")) is True and done == ["again"]
