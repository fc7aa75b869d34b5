"""The Bolt app factory: the same app for HTTP, Socket Mode, the demo and the tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.app.hub import Hub
from bot.slack import guard
from bot.slack.errors import answer_failure
from bot.slack.gateway import make_client
from bot.slack.ids import BadValue
from bot.slack.inbox import keep_replies
from bot.slack.listeners import register_listeners


def create_app(
    hub: Hub,
    *,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> App:
    """`on_error` also sees every error a listener raised (the tests keep them)."""
    settings = hub.settings
    app = App(
        # Bolt hands this client to each listener; it retries like the gateway's.
        client=client or make_client(settings.slack.bot_token, settings.slack.api_url),
        signing_secret=settings.slack.signing_secret or "",
        # The token is checked lazily on the first request instead of at start, so the
        # process can come up (and report itself on /healthz) while Slack is unreachable.
        token_verification_enabled=False,
        listener_executor=listener_executor,
        logger=logging.getLogger("bot.slack"),
    )

    checks = guard.register(app, settings)  # first: Bolt's own injection trips over some payloads a listener could not read either

    def tell_the_person(error: Exception, body: dict[str, Any], response: BoltResponse | None, client: WebClient) -> BoltResponse | None:
        """A damaged value gets the guard's apology; anything else, bot.slack.errors' answer."""
        if isinstance(error, BadValue):
            return checks.on_error(error, body, response)
        return answer_failure(error, body, response, client, on_error)

    @app.middleware
    def attach_hub(context: BoltContext, next: Callable[[], None]) -> None:
        context["hub"] = hub
        context["on_failure"] = tell_the_person  # for failures after the answer (listeners/safely.py)
        next()

    app.middleware(keep_replies)
    app.error(tell_the_person)

    register_listeners(app, settings)
    return app
