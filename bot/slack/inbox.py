"""A person's reply in a thread: kept before Slack is answered, handled after the answer.

Bolt answers events before its listeners run, so replies are taken here, before Bolt dispatches
the request (`HubApp.dispatch` asks `KeepReplies.answer` first, over HTTP and in Socket Mode
alike), while the request is still open. `bot.app.discuss.receive` keeps a reply in an
initiative's thread in the database, so a process that dies after the answer loses nothing (the
upkeep handles it later); the reply is then handed to a listener thread, where `discuss.reply`
records and mirrors it once it has its turn at the work (listeners/safely.py). When the
database cannot be reached the answer is 503 and Slack retries the event (about at once, then
after a minute and after five). A reply anywhere else is answered and changes nothing.

Answered here rather than by a Bolt listener: matching a listener, building its arguments and
waiting for its thread to say it answered cost a reply about a fifth of its CPU; Bolt's
middleware (the guard aside, which is asked here when web.py did not ask it) and the context it
builds are not needed to keep a reply either. The hub's own bot user, which Bolt would learn
with `auth.test`, is the one the event's envelope lists as its installation (`own_user`); its
messages carry a bot ID anyway.

Kept replies are handed over in the order they came, to a few listener threads
(`ThreadPerListener.hand_over`).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.app import discuss
from bot.app.discuss import Reply
from bot.slack import guard
from bot.slack.listener_threads import ThreadPerListener
from bot.slack.listeners.events.thread_reply import is_person_reply, read_reply
from bot.slack.listeners.safely import HeldTurn

log = logging.getLogger(__name__)


class KeepReplies:
    """Keeps a person's reply before its event is answered, or answers 503; a reply kept is
    answered here and handed to `threads`."""

    def __init__(self, threads: ThreadPerListener) -> None:
        self.threads = threads

    def answer(self, req: BoltRequest, client: WebClient) -> BoltResponse | None:
        """The answer to a person's reply in a thread; None for any other request, and for one
        the guard would refuse (Bolt's to answer, through the guard's middleware). `client`
        tells the person of a failure after the answer."""
        body = req.body
        event = body.get("event") if body.get("type") == "event_callback" else None
        if not (isinstance(event, dict) and is_person_reply(event, own_user(body))):
            return None
        if not req.context.get(guard.SCREENED) and guard.inspect(body) is not None:
            return None
        reply = read_reply(event, body.get("event_id"))
        try:
            kept = discuss.receive(req.context["hub"], reply)
        except Exception as failure:  # the database is down or slow: Slack sends the event again
            log.warning("event %s was not kept (%s): answered 503 so that Slack retries it", body.get("event_id"), type(failure).__name__)
            return BoltResponse(status=503, body="")
        if kept:
            req.context["client"] = client
            try:
                self.threads.hand_over(handle, reply, body, req.context)
            except Exception:  # shut down, or no thread to be had: kept, for the upkeep
                log.exception("event %s was kept but could not be handed to a listener thread", reply.event_id)
        return BoltResponse(status=200, body="")


def own_user(body: dict[str, Any]) -> str | None:
    """The hub's own bot user: the installation an event's envelope says it is delivered to."""
    authorizations = body.get("authorizations")
    for authorization in authorizations if isinstance(authorizations, list) else []:
        if isinstance(authorization, dict) and authorization.get("is_bot") and isinstance(authorization.get("user_id"), str):
            return str(authorization["user_id"])
    return None


def handle(reply: Reply, body: dict[str, Any], context: BoltContext) -> None:
    """In a listener thread, after the answer: the reply's turn at the work, then the work. A
    failure is told as a listener's is (`on_failure`); the reply stays kept, and is tried
    again by the upkeep."""
    turn = HeldTurn(context["turns"])
    try:
        turn.wait_for_turn()
        discuss.reply(context["hub"], reply)
    except Exception as error:
        context["on_failure"](error, body, None, context.client)
    finally:
        turn.give_back_turn()
