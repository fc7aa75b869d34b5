"""The hub card's overflow menu: mark the initiative active, blocked, done or dropped."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.app import follow
from bot.slack.ids import StatusChoice, load


def handle_initiative_status(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    choice = load(StatusChoice, body["actions"][0]["selected_option"]["value"])
    outcome = follow.set_status(context["hub"], body["user"]["id"], choice.initiative, choice.status)
    if outcome is follow.StatusOutcome.REFUSED:
        respond(
            text="Sorry, only the proposer, the sponsor, hub staff or admins can change an initiative's status.",
            response_type="ephemeral",
            replace_original=False,
        )
