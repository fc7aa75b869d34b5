"""The buttons of nudges (We're on it, Snooze a week, Blocked, Nudge them again): one listener
for the four, since they differ only in what they ask of the pair."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.app import answers
from bot.slack import answers as words
from bot.slack.ids import Action, NudgeRef, load

log = logging.getLogger(__name__)


def handle_nudge_button(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    hub = context["hub"]
    action = body["actions"][0]
    user = body["user"]["id"]
    ref = load(NudgeRef, action.get("value"))
    clicked = answers.answer(hub, words.CHOICES[Action(action["action_id"])], user, ref.pair, ref.round, ref.nudge)
    message = body.get("message") or {}
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or message.get("ts")
    updated = words.updated_message(clicked, user, message, action.get("block_id"))
    if updated is not None and channel and ts:
        try:
            client.chat_update(channel=channel, ts=ts, text=message.get("text") or "Nudge", blocks=updated)
        except (SlackApiError, SlackClientError, OSError) as failure:
            log.warning("the nudge %s in %s could not be updated after a click: %s", ts, channel, failure)
    respond(text=words.reply(clicked, hub.settings), response_type="ephemeral", replace_original=False)
