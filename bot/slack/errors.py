"""What a person is told when their request fails on the hub's side.

The database not answering (an outage, a failover) is the expected case: nothing was half
stored, since every change is one transaction, and the person is asked to try again in a
minute — in the form itself when Slack still waits for the answer, else by an ephemeral
message (or a DM after a form was closed). Anything else is a bug of ours: logged in one line
(the traceback with --verbose), and the person is told it did not work.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.app.port import SlackUnavailable

log = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, DisconnectionError, PoolTimeout)
TRY_AGAIN = "The hub cannot reach its database right now, so nothing was saved. Please try again in a minute."
SLACK_SLOW = "Slack did not answer the hub just now, so nothing was saved. Please try again in a minute."
FAILED = "Sorry, that did not work on the hub's side. Please try again; if it keeps failing, tell the hub staff."


def is_database_down(error: BaseException) -> bool:
    return isinstance(error, DATABASE_DOWN) or (isinstance(error, DBAPIError) and error.connection_invalidated)


def _first_input(view: dict[str, Any]) -> str | None:
    """The block to hang the words on: the form's first input."""
    inputs = [b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input"]
    inputs += list(((view.get("state") or {}).get("values") or {}).keys())
    return next((block for block in inputs if isinstance(block, str) and block), None)


def answer_failure(
    error: Exception,
    body: dict[str, Any],
    response: BoltResponse | None,
    client: WebClient,
    on_error: Callable[[Exception], None] | None = None,
) -> BoltResponse | None:
    """Bolt's error handler: `response` is set while Slack still waits for the answer."""
    if on_error is not None:
        on_error(error)
    down = is_database_down(error)
    if isinstance(error, SlackUnavailable):
        log.warning("a %s request waits: %s", body.get("type") or "slash command", error)
    elif down:
        log.warning("a %s request failed: the database did not answer (%s)", body.get("type") or "slash command", type(error).__name__)
    else:  # a bug of ours: one line with where it happened; the traceback only with --verbose
        frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
        where = f" at {frame.filename}:{frame.lineno}" if frame else ""
        log.error("a %s request failed: %s: %s%s", body.get("type") or "slash command", type(error).__name__, error, where)
        log.debug("the failure in full", exc_info=error)
    text = TRY_AGAIN if down else SLACK_SLOW if isinstance(error, SlackUnavailable) else FAILED
    view = body.get("view") if body.get("type") == "view_submission" else None
    if response is not None:  # not answered yet: answer with the words
        if isinstance(view, dict) and _first_input(view):
            payload: dict[str, Any] = {"response_action": "errors", "errors": {_first_input(view): text}}
        else:
            payload = {"response_type": "ephemeral", "text": text}
        return BoltResponse(status=200, body=json.dumps(payload), headers={"content-type": "application/json"})
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    urls = [entry.get("response_url") for entry in body.get("response_urls") or [] if isinstance(entry, dict)]
    response_url = body.get("response_url") or next(iter(urls), None)
    try:
        if response_url:
            from slack_sdk.webhook import WebhookClient

            WebhookClient(response_url).send(text=text, response_type="ephemeral", replace_original=False)
        elif user and body.get("type") != "event_callback":
            client.chat_postMessage(channel=user, text=text)
    except (SlackClientError, OSError) as failure:
        log.warning("the person could not be told of the failure: %s", failure)
    return None
