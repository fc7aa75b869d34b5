"""Every listener runs inside `safely`, which does two things around it.

Failures after the answer: a failure after the listener answered Slack is told to the person
here, in the listener's own thread (with the app's error handler, which the app factory puts in
the context as `on_failure`). Bolt's own error handler cannot do it for that case: when a
listener fails after `ack()`, Bolt may replace the answer it already gave with none at all
(Slack then shows an error although the click was taken). Failures before `ack()` still go to
Bolt's error handler, which answers in their place (see bot/slack/errors.py).

Turns after the answer: once a listener has answered, the rest of its work waits for one of a
few turns (`Turns`) before it goes on. The answers of the requests that arrive meanwhile then
never queue behind that work, nor share the interpreter with more than a few threads doing it:
under load the work waits, the answers do not. A listener whose work after the answer opens
or updates a modal (`urgent`) takes no turn: a trigger lives three seconds.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, BoltResponse
from slack_sdk import WebClient

Listener = Callable[..., None]

TURNS = 2  # listeners doing their work after the answer at once, in one process


class Turns:
    """The turns at the work listeners do after answering, shared by one app's listeners."""

    def __init__(self, size: int = TURNS) -> None:
        self._free = threading.BoundedSemaphore(size)

    def take(self) -> None:
        self._free.acquire()

    def give_back(self) -> None:
        self._free.release()


class AnswerThenWait:
    """Bolt's `ack` for one listener: it answers Slack at once, then waits for a turn before
    the listener goes on with its work. `answer_only` gives the plain `ack` to a listener that
    decides after reading the request that its work is urgent (a `/cdo` subcommand that opens
    a form)."""

    def __init__(self, ack: Ack, turns: Turns) -> None:
        self.inner, self._turns, self.holding = ack, turns, False

    @property
    def response(self) -> BoltResponse | None:
        return self.inner.response

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        answered = self.inner(*args, **kwargs)
        self.wait_for_turn()
        return answered

    def wait_for_turn(self) -> None:
        if not self.holding:
            self._turns.take()
            self.holding = True

    def finish(self) -> None:
        if self.holding:
            self.holding = False
            self._turns.give_back()


def answer_only(ack: Ack) -> Ack:
    """The `ack` that answers and takes no turn, for work after the answer that cannot wait."""
    return ack.inner if isinstance(ack, AnswerThenWait) else ack


def safely(handler: Listener, *, urgent: bool = False) -> Listener:
    wanted = set(inspect.signature(handler).parameters)

    @functools.wraps(handler)
    def listener(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, **given: Any) -> None:
        turns: Turns | None = context.get("turns")
        answer = AnswerThenWait(ack, turns) if turns is not None and not urgent else None
        if answer is not None and ack.response is not None:
            answer.wait_for_turn()  # Bolt answered already (events): all that is left is work
        offered = {"ack": answer or ack, "body": body, "client": client, "context": context, **given}
        try:
            handler(**{name: value for name, value in offered.items() if name in wanted})
        except Exception as error:
            if getattr(ack, "response", None) is None:
                raise  # not answered yet: Bolt's error handler answers in its place
            context["on_failure"](error, body, None, client)
        finally:
            if answer is not None:
                answer.finish()

    # Bolt passes what a listener's signature names: ours, plus the four the wrapper needs.
    parameters = {
        name: inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in wanted | {"ack", "body", "client", "context"}
    }
    listener.__signature__ = inspect.Signature(list(parameters.values()))  # type: ignore[attr-defined]
    del listener.__wrapped__
    return listener
