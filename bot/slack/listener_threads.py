"""Where Bolt runs listeners: a thread of its own for each, and Bolt's dispatch handed the
answer the moment the listener gives it.

A thread each: a listener that answered may wait a while for its turn at the work
(listeners/safely.py). A pool of a fixed size would fill up with such waiting listeners under
load, and the next request's listener, which has not answered yet, would queue behind them.
Threads whose listener ended are kept a while and reused (`ThreadPerListener`).

The answer at once: Bolt's dispatch submits the listener, then looks for its answer every 10 ms.
A listener that reads the database before answering (a form checked before it is accepted)
misses the first look, and its answer waited up to 10 ms for the next. `submit` waits instead
until the listener says it has answered (`answered()`, which listeners/safely.py calls after
`ack()`), has nothing to answer, or has ended, so that Bolt's first look finds the answer.
"""

from __future__ import annotations

import atexit
import contextvars
import functools
import logging
import queue
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any, Protocol

from bot.db import in_transaction

log = logging.getLogger(__name__)

ANSWER_WITHIN = 3.0  # seconds; Bolt gives up on an answer after as long
# Work handed over (its answer given already: a thread reply kept, bot/slack/inbox.py) runs in
# this many threads at most, in the order it came. One works (it holds the turn); the others go
# on while it waits on Slack (it lends its turn), so that up to three waiting on a busy channel
# do not hold up the rest. A thread each would mostly wait for the turn, and a burst would
# start one for each while its requests are still being answered.
HANDED_AT_ONCE = 4
# Seconds a listener thread waits for another listener before it ends: a burst's threads are
# reused, and gone soon after (each one kept costs memory).
IDLE_FOR = 1.0

_current = threading.local()


def answered() -> None:
    """The listener running in this thread has answered Slack (or has nothing to answer): the
    request's dispatch may return now. Does nothing outside a listener thread."""
    event: threading.Event | None = getattr(_current, "answered", None)
    if event is not None:
        event.set()


class Turn(Protocol):
    """A listener's turn at the work after its answer (listeners/safely.py `HeldTurn`)."""

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
    """Runs each listener in a thread no other listener is using: one that finished its last
    listener and waits for the next (for IDLE_FOR at most), or else a new one. Starting a thread
    costs more than the hand-over (and Python's bookkeeping of threads it must wait for at exit
    grows with their number). Threads are daemons, waited for at exit instead (`shutdown`, and
    `atexit` for any executor not shut down): a process told to stop finishes the work it
    answered for.

    Anything else submitted here (work after an answer given elsewhere) calls `answered()`
    first, or whoever submits it waits until it ends."""

    def __init__(self) -> None:
        self._threads_lock = threading.Lock()
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._idle = 0
        self._threads: set[threading.Thread] = set()
        self._closed = False
        self._handed: deque[Callable[[], Any]] = deque()
        self._handing = 0  # threads running `_run_handed`
        _running.add(self)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future, given = self._begin(fn, *args, **kwargs)
        given.wait(ANSWER_WITHIN)
        return future

    def hand_over(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Work with no answer to give (it was given already): run as a listener is, in the
        context of whoever hands it over, after the work handed over before it (HANDED_AT_ONCE
        threads at most); not waited for. A failure is logged: the work tells of its own."""
        job = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        with self._threads_lock:
            if self._closed:
                raise RuntimeError("the listener threads were shut down")
            self._handed.append(job)
            if self._handing >= HANDED_AT_ONCE:
                return
            self._handing += 1
        try:
            self._begin(self._run_handed)
        except BaseException:  # no thread to be had: the next hand-over tries again
            with self._threads_lock:
                self._handing -= 1
            raise

    def _run_handed(self) -> None:
        """In a listener thread: the work handed over, one after another, until none is left (it
        leaves in the same breath as it finds none, so work handed over then finds a thread)."""
        while True:
            with self._threads_lock:
                if not self._handed:
                    self._handing -= 1
                    return
                job = self._handed.popleft()
            try:
                job()
            except Exception:
                log.exception("work handed over after an answer failed")
            except BaseException:  # the thread is being stopped
                with self._threads_lock:
                    self._handing -= 1
                raise

    def _begin(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> tuple[Future[Any], threading.Event]:
        """`fn` started in a listener thread; the event is set once it answered or ended."""
        future: Future[Any] = Future()
        given = threading.Event()
        context = contextvars.copy_context()  # the request's log fields, in the listener's lines too

        def run() -> None:
            _current.answered = given
            try:
                if not future.set_running_or_notify_cancel():
                    return
                try:
                    future.set_result(context.run(fn, *args, **kwargs))
                except BaseException as error:  # handed to whoever reads the future, as a pool would
                    future.set_exception(error)
            finally:
                _current.answered = _current.turn = None  # nothing of it left for the thread's next listener
                given.set()  # ended: whatever it answered is there

        with self._threads_lock:
            if self._closed:
                raise RuntimeError("the listener threads were shut down")
            if self._idle:
                self._idle -= 1
                self._jobs.put(run)
            else:
                thread = threading.Thread(target=self._serve, args=(run,), name="listener", daemon=True)
                self._threads.add(thread)
                thread.start()
        return future, given

    def _serve(self, job: Callable[[], None] | None) -> None:
        while job is not None:
            job()
            with self._threads_lock:
                self._idle += 1
            job = self._next()

    def _next(self) -> Callable[[], None] | None:
        """The next listener to run, or None once this thread has left: shut down, or idle for
        IDLE_FOR. It leaves in the same breath as it looks at the queue, so no listener is
        handed to it once it has decided to end."""
        while True:
            try:
                job = self._jobs.get(timeout=IDLE_FOR)
            except queue.Empty:
                with self._threads_lock:
                    if not self._jobs.empty():
                        continue  # handed over while it timed out (and ahead of a shutdown's markers)
                    self._leave()
                    return None
            if job is None:  # shut down
                with self._threads_lock:
                    self._leave()
            return job

    def _leave(self) -> None:
        """Under the lock: this thread takes no more listeners."""
        self._idle -= 1
        self._threads.discard(threading.current_thread())

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._threads_lock:
            self._closed = True
            threads = list(self._threads)
            for _ in threads:
                self._jobs.put(None)  # one for each thread: those idle now or once their listener ends
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()


_running: weakref.WeakSet[ThreadPerListener] = weakref.WeakSet()


@atexit.register
def _finish_at_exit() -> None:
    for executor in list(_running):
        executor.shutdown(wait=True)
