"""Every listener runs inside `safely`: a failure after the listener answered Slack is told to
the person here, in the listener's own thread (with the app's error handler, which the app
factory puts in the context as `on_failure`).

Bolt's own error handler cannot do it for that case: when a listener fails after `ack()`, Bolt
may replace the answer it already gave with none at all (Slack then shows an error although
the click was taken). Failures before `ack()` still go to Bolt's error handler, which answers
in their place (see bot/slack/errors.py).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

Listener = Callable[..., None]


def safely(handler: Listener) -> Listener:
    wanted = set(inspect.signature(handler).parameters)

    @functools.wraps(handler)
    def listener(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, **given: Any) -> None:
        offered = {"ack": ack, "body": body, "client": client, "context": context, **given}
        try:
            handler(**{name: value for name, value in offered.items() if name in wanted})
        except Exception as error:
            if getattr(ack, "response", None) is None:
                raise  # not answered yet: Bolt's error handler answers in its place
            context["on_failure"](error, body, None, client)

    # Bolt passes what a listener's signature names: ours, plus the four the wrapper needs.
    parameters = {
        name: inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in wanted | {"ack", "body", "client", "context"}
    }
    listener.__signature__ = inspect.Signature(list(parameters.values()))  # type: ignore[attr-defined]
    del listener.__wrapped__
    return listener
