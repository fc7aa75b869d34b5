"""Where Bolt runs listeners: a thread of its own for each, and Bolt's dispatch handed the
answer the moment the listener gives it.

A thread each: a listener that answered may wait a while for its turn at the work
(listeners/safely.py). A pool of threads would fill up with such waiting listeners under load,
and the next request's listener, which has not answered yet, would queue behind them.

The answer at once: Bolt's dispatch submits the listener, then looks for its answer every 10 ms.
A listener that reads the database before answering (a form checked before it is accepted)
misses the first look, and its answer waited up to 10 ms for the next. `submit` waits instead
until the listener says it has answered (`answered()`, which listeners/safely.py calls after
`ack()`), has nothing to answer, or has ended, so that Bolt's first look finds the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any, Protocol

from bot.db import in_transaction

ANSWER_WITHIN = 3.0  # seconds; Bolt gives up on an answer after as long

_current = threading.local()


def answered() -> None:
    """The listener running in this thread has answered Slack (or has nothing to answer): the
    request's dispatch may return now. Does nothing outside a listener thread."""
    event: threading.Event | None = getattr(_current, "answered", None)
    if event is not None:
        event.set()


class Turn(Protocol):
    """A listener's turn at the work after its answer (listeners/safely.py `Answer`)."""

    def give_back_turn(self) -> None: ...

    def wait_for_turn(self) -> None: ...


def holding(turn: Turn | None) -> None:
    """The listener running in this thread took its turn (or gave it back: None)."""
    _current.turn = turn


@contextmanager
def lending_the_turn() -> Iterator[None]:
    """While this thread waits on Slack (a call of the gateway), its listener's turn, if it
    holds one, goes to another listener, and is waited for again after: a message Slack makes
    wait (a busy channel answers 429 and Retry-After) holds up no other work. Not inside a
    database transaction: the listener given the turn could then wait for what this one holds,
    and this one for the turn."""
    turn: Turn | None = getattr(_current, "turn", None)
    if turn is None or in_transaction():
        yield
        return
    turn.give_back_turn()
    try:
        yield
    finally:
        turn.wait_for_turn()


class ThreadPerListener(Executor):
    """Anything else submitted here (work after an answer given elsewhere) calls `answered()`
    first, or whoever submits it waits until it ends."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        given = threading.Event()

        def run() -> None:
            _current.answered = given
            try:
                if not future.set_running_or_notify_cancel():
                    return
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as error:  # handed to whoever reads the future, as a pool would
                    future.set_exception(error)
            finally:
                given.set()  # ended: whatever it answered is there

        # Not a daemon: a process told to stop finishes the work it answered for, as a pool would.
        threading.Thread(target=run, name="listener").start()
        given.wait(ANSWER_WITHIN)
        return future
