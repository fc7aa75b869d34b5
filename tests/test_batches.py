"""Items asked for while another write runs are written together after it, each exactly once,
and one item's failure is only its own caller's."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest

from bot.app.batches import Batches


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


class Writes:
    """A `write` that keeps each batch it was given; the first one waits until let go."""

    def __init__(self, fails_on: object = None) -> None:
        self.batches: list[list[object]] = []
        self.started, self.go_on = threading.Event(), threading.Event()
        self.fails_on = fails_on

    def __call__(self, items: Sequence[object]) -> list[object]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.started.set()
            assert self.go_on.wait(10)
        if self.fails_on in items:
            raise ValueError(f"cannot write {self.fails_on}")
        return [f"written {item}" for item in items]


def in_threads(batches: Batches, key: str, items: Sequence[object], write: Writes) -> tuple[list[threading.Thread], dict[object, object]]:
    outcomes: dict[object, object] = {}

    def ask(item: object) -> None:
        try:
            outcomes[item] = batches.run(key, item, write)
        except Exception as error:
            outcomes[item] = error

    threads = [threading.Thread(target=ask, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    return threads, outcomes


def test_items_asked_for_during_a_write_are_written_together_after_it():
    batches, write = Batches(), Writes()
    first, outcomes = in_threads(batches, "replies", ["a"], write)
    assert write.started.wait(10)
    later, later_outcomes = in_threads(batches, "replies", ["b", "c", "d", "e"], write)
    wait_for(lambda: batches.waiting("replies") == 4)
    # Another key does not wait for this one's write.
    assert batches.run("other", "x", lambda items: [f"alone {item}" for item in items]) == "alone x"
    write.go_on.set()
    for thread in first + later:
        thread.join(10)
    assert write.batches[0] == ["a"] and sorted(write.batches[1]) == ["b", "c", "d", "e"] and len(write.batches) == 2
    assert {**outcomes, **later_outcomes} == {item: f"written {item}" for item in "abcde"}
    assert batches.waiting("replies") == 0
    assert batches.run("replies", "f", write) == "written f" and write.batches[-1] == ["f"]  # nobody writing: at once


def test_a_failing_batch_is_written_again_item_by_item_and_only_the_bad_item_fails():
    batches, write = Batches(), Writes(fails_on="bad")
    first, outcomes = in_threads(batches, "replies", ["a"], write)
    assert write.started.wait(10)
    later, later_outcomes = in_threads(batches, "replies", ["b", "bad", "c"], write)
    wait_for(lambda: batches.waiting("replies") == 3)
    write.go_on.set()
    for thread in first + later:
        thread.join(10)
    outcomes |= later_outcomes
    assert isinstance(outcomes.pop("bad"), ValueError)
    assert outcomes == {"a": "written a", "b": "written b", "c": "written c"}
    assert sorted(write.batches[1]) == ["b", "bad", "c"] and sorted(map(tuple, write.batches[2:])) == [("b",), ("bad",), ("c",)]


def test_a_writer_stopped_by_a_base_exception_leaves_its_batch_unwritten_and_the_key_usable():
    batches = Batches()

    def stopped(_items: Sequence[object]) -> list[object]:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batches.run("replies", "a", stopped)
    assert batches.run("replies", "b", lambda items: [f"written {item}" for item in items]) == "written b"


def test_a_write_giving_the_wrong_number_of_results_fails_its_callers():
    with pytest.raises(RuntimeError, match="a write of 1 items gave 0 results"):
        Batches().run("replies", "a", lambda _items: [])


def test_many_callers_each_item_written_once_in_batches_no_larger_than_the_most_one_writer_at_a_time():
    batches = Batches(most=7)
    written: list[object] = []
    writing, overlapped, sizes = [0], [False], []
    lock = threading.Lock()

    def write(items: Sequence[object]) -> list[object]:
        with lock:
            writing[0] += 1
            overlapped[0] |= writing[0] > 1
            sizes.append(len(items))
        time.sleep(0.0005)  # long enough for others to pile up
        with lock:
            written.extend(items)
            writing[0] -= 1
        return [item * 2 for item in items]  # type: ignore[operator]

    results: dict[int, object] = {}

    def caller(start: int) -> None:
        for item in range(start, start + 25):
            results[item] = batches.run("replies", item, write)

    threads = [threading.Thread(target=caller, args=(n * 25,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(written) == list(range(1000))  # each item once
    assert results == {item: item * 2 for item in range(1000)}
    assert not overlapped[0] and max(sizes) <= 7
    assert len(sizes) < 1000  # some were written together


def test_a_batch_failing_for_every_item_fails_them_at_once_without_writing_each_again():
    """A failure `alone` does not call one item's (the database is down) is every caller's at
    once: no write of each item alone, each waiting for the failures before it."""
    batches, write = Batches(), Writes(fails_on="b")
    first, outcomes = in_threads(batches, "replies", ["a"], write)
    assert write.started.wait(10)
    failures: dict[object, object] = {}  # the callers below say that a failure is never one item's

    def caller(item: str) -> None:
        try:
            failures[item] = batches.run("replies", item, write, alone=lambda _error: False)
        except ValueError as error:
            failures[item] = error

    later = [threading.Thread(target=caller, args=(item,)) for item in ("b", "c", "d")]
    for thread in later:
        thread.start()
    wait_for(lambda: batches.waiting("replies") == 3)
    write.go_on.set()
    for thread in first + later:
        thread.join(10)
    assert outcomes == {"a": "written a"}
    assert all(isinstance(failures[item], ValueError) for item in "bcd")
    assert len(write.batches) == 2 and sorted(write.batches[1]) == ["b", "c", "d"]


def test_a_caller_out_of_patience_gives_up_and_the_others_go_on():
    batches, write = Batches(), Writes()
    first, outcomes = in_threads(batches, "replies", ["a"], write)
    assert write.started.wait(10)
    with pytest.raises(TimeoutError):
        batches.run("replies", "late", write, patience=0.05)
    assert batches.waiting("replies") == 0  # it left the queue: nobody writes it later
    later, later_outcomes = in_threads(batches, "replies", ["b"], write)
    wait_for(lambda: batches.waiting("replies") == 1)
    write.go_on.set()
    for thread in first + later:
        thread.join(10)
    assert {**outcomes, **later_outcomes} == {"a": "written a", "b": "written b"}
    assert all("late" not in batch for batch in write.batches)


def test_callers_batched_with_a_writer_stopped_by_a_base_exception_are_told_not_hung():
    batches, started, go_on = Batches(), threading.Event(), threading.Event()

    def stopped(items: Sequence[object]) -> list[object]:
        if items == ["a"]:
            return ["written a"]
        started.set()
        assert go_on.wait(10)
        raise KeyboardInterrupt

    held = Writes()
    first, _ = in_threads(batches, "replies", ["a"], held)
    assert held.started.wait(10)
    stops: list[BaseException] = []

    def write_and_be_stopped() -> None:
        try:
            batches.run("replies", "w", stopped)
        except KeyboardInterrupt as stop:
            stops.append(stop)

    writer = threading.Thread(target=write_and_be_stopped)
    writer.start()
    wait_for(lambda: batches.waiting("replies") == 1)
    others, outcomes = in_threads(batches, "replies", ["x", "y"], stopped)
    wait_for(lambda: batches.waiting("replies") == 3)
    held.go_on.set()  # "w" writes next, with "x" and "y", and is stopped
    assert started.wait(10)
    go_on.set()
    for thread in [*first, writer, *others]:
        thread.join(10)
        assert not thread.is_alive()
    assert len(stops) == 1 and all(isinstance(outcomes[item], RuntimeError) for item in "xy")
