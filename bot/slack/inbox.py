"""Replies are kept before Slack is answered (Bolt answers events before its listeners run).

A person's reply in a thread reaches `bot.app.discuss.receive` while the request is still open:
kept in the database if it belongs to an initiative, so a process that dies after the answer
loses nothing. When the database cannot be reached the answer is 503 and Slack retries the
event (about at once, then after a minute and after five).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from sqlalchemy.exc import SQLAlchemyError

from bot.app import discuss
from bot.slack.listeners.events.thread_reply import is_person_reply, read_reply

log = logging.getLogger(__name__)


class KeepReplies(Middleware):
    """Keeps a person's reply in a thread before Bolt answers its event, or answers 503. A
    `Middleware` class, which Bolt calls as it is: a function given to `app.middleware` would be
    called with arguments built anew for every request."""

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        body = req.body
        event = body.get("event") if body.get("type") == "event_callback" else None
        if isinstance(event, dict) and is_person_reply(event, req.context.bot_user_id):
            try:
                discuss.receive(req.context["hub"], read_reply(event, body.get("event_id")))
            except SQLAlchemyError as failure:
                log.warning(
                    "event %s was not kept (%s): answered 503 so that Slack retries it", body.get("event_id"), type(failure).__name__
                )
                return BoltResponse(status=503, body="")
        return next()
