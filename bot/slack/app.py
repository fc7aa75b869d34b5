"""The Bolt app factory: the same app for HTTP, Socket Mode, the demo and the tests.

Every request the app dispatches (over HTTP or Socket Mode; a person's thread reply is
answered before Bolt sees it, bot/slack/inbox.py) is counted by kind and outcome, its time to
the ack measured, and its event_id and user attached to the log lines it causes, in the
listener threads too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.listener_matcher import ListenerMatcher
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from slack_sdk import WebClient

from bot.app.hub import Hub
from bot.logs import about
from bot.metrics import Metrics, request_kind
from bot.slack import guard
from bot.slack.errors import answer_failure
from bot.slack.gateway import make_client
from bot.slack.ids import BadValue
from bot.slack.inbox import KeepReplies
from bot.slack.listener_threads import ThreadPerListener
from bot.slack.listeners import register_listeners
from bot.slack.listeners.safely import Turns


class BodyMatcher(ListenerMatcher):
    """One of Bolt's built-in matchers (the kind of request, a callback or action ID, an event
    type), asked with the body alone, which is all it reads. Bolt asks each listener's matcher
    in turn until one matches, and would build every argument a listener can name for each."""

    def __init__(self, func: Callable[..., bool]) -> None:
        self.func = func

    @classmethod
    def of(cls, matcher: ListenerMatcher) -> ListenerMatcher:
        if isinstance(matcher, BuiltinListenerMatcher) and matcher.arg_names == ["body"]:
            return cls(matcher.func)  # type: ignore[arg-type]
        return matcher

    def matches(self, req: BoltRequest, resp: BoltResponse) -> bool:
        return self.func(body=req.body)


class HubApp(App):
    """Bolt's app, counting each request it dispatches; `dispatch` returns at the ack.

    `attached` goes into each request's context before Bolt dispatches it (the hub, the turns,
    what tells a person about a failure after the answer): set here rather than by a middleware,
    which Bolt would call with arguments it builds anew for each request."""

    metrics: Metrics
    turns: Turns
    replies: KeepReplies  # a person's reply in a thread, answered before Bolt dispatches it
    attached: dict[str, Any]

    def _register_listener(self, functions: Any, primary_matcher: ListenerMatcher, *args: Any, **kwargs: Any) -> Any:
        return super()._register_listener(functions, BodyMatcher.of(primary_matcher), *args, **kwargs)

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        req.context.update(self.attached)
        body = req.body if isinstance(req.body, dict) else {}
        kind = request_kind(guard.kind_of(body))
        started = time.perf_counter()
        outcome = "error"
        try:
            with about(event_id=body.get("event_id"), user=req.context.user_id), self.turns.answering():
                response = self.replies.answer(req, self.client) or super().dispatch(req)
            outcome = "ok" if response.status == 200 else "unhandled" if response.status == 404 else "error"
            return response
        finally:
            self.metrics.request(kind, outcome, time.perf_counter() - started)


def create_app(
    hub: Hub,
    *,
    client: WebClient | None = None,
    listener_executor: ThreadPerListener | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> HubApp:
    """`on_error` also sees every error a listener raised (the tests keep them)."""
    settings = hub.settings
    threads = listener_executor or ThreadPerListener()
    app = HubApp(
        name="cdo-hub",  # without a name, Bolt reads the whole call stack with its source to make one
        # Bolt hands this client to each listener; it retries like the gateway's.
        client=client or make_client(settings.slack.bot_token, settings.slack.api_url),
        signing_secret=settings.slack.signing_secret or "",
        # The token is checked lazily on the first request instead of at start, so the
        # process can come up (and report itself on /healthz) while Slack is unreachable.
        token_verification_enabled=False,
        # Each request's signature is checked before Bolt sees it (bot/slack/web.py, which
        # answers 401); Socket Mode requests carry none. Once is enough.
        request_verification_enabled=False,
        listener_executor=threads,
        logger=logging.getLogger("bot.slack"),
    )

    app.metrics = hub.metrics
    app.turns = turns = Turns()
    checks = guard.register(app, settings)  # first: Bolt's own injection trips over some payloads a listener could not read either

    def tell_the_person(error: Exception, body: dict[str, Any], response: BoltResponse | None, client: WebClient) -> BoltResponse | None:
        """A damaged value gets the guard's apology; anything else, bot.slack.errors' answer."""
        if isinstance(error, BadValue):
            return checks.on_error(error, body, response)
        return answer_failure(error, body, response, client, on_error)

    # on_failure: for failures after the answer (listeners/safely.py)
    app.attached = {"hub": hub, "turns": turns, "on_failure": tell_the_person}
    app.replies = KeepReplies(threads)
    app.error(tell_the_person)

    register_listeners(app, settings)
    return app
