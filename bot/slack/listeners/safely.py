"""Every listener runs inside `safely`, which does two things around it.

Failures after the answer: a failure after the listener answered Slack is told to the person
here, in the listener's own thread (with the app's error handler, which the app factory puts in
the context as `on_failure`). Bolt's own error handler cannot do it for that case: when a
listener fails after `ack()`, Bolt may replace the answer it already gave with none at all
(Slack then shows an error although the click was taken). Failures before `ack()` still go to
Bolt's error handler, which answers in their place (see bot/slack/errors.py).

Turns after the answer: once a listener has answered, the rest of its work waits for its turn
(`Turns`) before it goes on. The answers of the requests that arrive meanwhile (from the moment
they arrive over HTTP, bot/slack/web.py) then never queue behind that work, nor share the
interpreter with more than TURNS threads doing it: under load the work waits, the answers do
not. A turn is handed out when no request has been answered for QUIET_FOR (or after
GIVE_WAY). While the work waits on Slack, its turn is lent to the next listener. A listener
whose work after the answer opens or updates a modal (`urgent`) takes no turn: a trigger lives
three seconds. Nor does one that has no work after its answer (`urgent` too).
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import Ack, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.slack.listener_threads import answered, holding

Listener = Callable[..., None]

# Listeners doing their work after the answer at once, in one process. One: the interpreter
# runs one thread at a time anyway, and each more thread at work slows every answer (measured at
# 1,000 initiatives, 100 forms sent 10 at a time: answered in 60 ms with two turns, 40 ms with
# one, the anchor of benchmarks/ in 15 ms). Work that waits on Slack lends its turn meanwhile
# (listener_threads.lending_the_turn), except inside a database transaction.
TURNS = 1

# How long work after an answer gives way to the answers of other requests at most, each time it
# takes its turn (at its start, and after each wait on Slack).
GIVE_WAY = 0.5

# How long no request must have been answered before work after an answer goes on. Within a
# burst, the next request often arrives a moment after the last answer: work started in that
# gap keeps the interpreter from the answers that follow (measured at 1,000 initiatives, 100
# thread replies sent 10 at a time: the median 1.58-1.99x the anchor of benchmarks/ when work
# went on at the first moment nothing was answered, 1.25-1.52x with 10 ms, seven runs each on
# SQLite; on Postgres 1.67-1.99x and 1.52-1.63x, four runs each). Outside bursts it costs
# the answers nothing, and the work after an answer 10 ms (its own answer counts): Slack
# delivers at most 30,000 events an hour per workspace to an app.
QUIET_FOR = 0.01


class Turns:
    """The turns at the work listeners do after answering, shared by one app's listeners.

    A turn is handed out when no request has been answered for QUIET_FOR (`answering`), or
    once the taker has given way for GIVE_WAY since it asked: work done beside an answer slows
    it (they share the interpreter), while work that starts a few milliseconds later loses
    nothing. A burst of requests is answered first and worked on after; under load that never
    stops, work still goes on."""

    def __init__(self, size: int = TURNS) -> None:
        self._free = threading.BoundedSemaphore(size)
        self._answering = 0
        self._last_answered = float("-inf")  # time.monotonic() when the last answer ended
        self._quiet = threading.Condition()

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Around one request until it is answered: from its arrival over HTTP (bot/slack/web.py)
        and around its dispatch (`HubApp.dispatch`, which Socket Mode requests reach alone)."""
        with self._quiet:
            self._answering += 1
        try:
            yield
        finally:
            with self._quiet:
                self._answering -= 1
                self._last_answered = time.monotonic()
                if not self._answering:
                    self._quiet.notify_all()

    def quiet(self) -> bool:
        """No request is being answered, nor was for QUIET_FOR."""
        return not self._answering and time.monotonic() - self._last_answered >= QUIET_FOR

    def take(self) -> None:
        # The time spent waiting for the turn counts as given way: those waiting give way side
        # by side, and under endless load turns still follow each other at once. Only those
        # holding a turn wait for the answers to end, so the end of each answer wakes at most
        # TURNS threads, not every listener waiting for its turn.
        until = time.monotonic() + GIVE_WAY
        self._free.acquire()
        with self._quiet:
            while not self.quiet() and (left := until - time.monotonic()) > 0:
                if self._answering:  # woken when the last answer ends
                    self._quiet.wait_for(lambda: not self._answering, timeout=left)
                else:  # a request that arrives meanwhile is seen when the wait ends
                    self._quiet.wait(min(left, self._last_answered + QUIET_FOR - time.monotonic()))

    def give_back(self) -> None:
        self._free.release()


class HeldTurn:
    """One thread's turn at the work after an answer: waited for, and given back when the work
    ends; lent meanwhile while the work waits on Slack (listener_threads.lending_the_turn).
    Without `turns` (urgent work), there is no turn to wait for."""

    def __init__(self, turns: Turns | None) -> None:
        self._turns, self.has_turn = turns, False

    def wait_for_turn(self) -> None:
        if self._turns is not None and not self.has_turn:
            self._turns.take()
            self.has_turn = True
            holding(self)

    def give_back_turn(self) -> None:
        if self._turns is not None and self.has_turn:
            self.has_turn = False
            holding(None)
            self._turns.give_back()


class Answer(HeldTurn):
    """Bolt's `ack` for one listener: it answers Slack, tells the dispatch waiting for the answer
    at once (bot.slack.listener_threads), then waits for a turn before the listener goes on with
    its work, unless it has no `turns` (urgent work). `answer_only` gives the same answer without
    the turn to a listener that decides after reading the request that its work is urgent (a
    `/cdo` subcommand that opens a form)."""

    def __init__(self, ack: Ack, turns: Turns | None) -> None:
        super().__init__(turns)
        self.inner = ack

    @property
    def response(self) -> BoltResponse | None:
        return self.inner.response

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        answer = self.inner(*args, **kwargs)
        answered()
        self.wait_for_turn()
        return answer


def answer_only(ack: Ack) -> Ack:
    """The `ack` that answers and takes no turn, for work after the answer that cannot wait."""
    return Answer(ack.inner, None) if isinstance(ack, Answer) else ack  # type: ignore[return-value]


def safely(handler: Listener, *, urgent: bool = False) -> Listener:
    wanted = set(inspect.signature(handler).parameters)

    @functools.wraps(handler)
    def listener(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, **given: Any) -> None:
        answer = Answer(ack, None if urgent else context.get("turns"))
        if ack.response is not None:
            answered()  # Bolt answered already (events): all that is left is work
            answer.wait_for_turn()
        offered = {"ack": answer, "body": body, "client": client, "context": context, **given}
        try:
            handler(**{name: value for name, value in offered.items() if name in wanted})
        except Exception as error:
            if getattr(ack, "response", None) is None:
                raise  # not answered yet: Bolt's error handler answers in its place
            context["on_failure"](error, body, None, client)
        finally:
            answer.give_back_turn()

    # Bolt passes what a listener's signature names: ours, plus the four the wrapper needs.
    parameters = {
        name: inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in wanted | {"ack", "body", "client", "context"}
    }
    listener.__signature__ = inspect.Signature(list(parameters.values()))  # type: ignore[attr-defined]
    del listener.__wrapped__
    return listener
