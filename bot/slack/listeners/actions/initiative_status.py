"""The hub card's overflow menu: mark the initiative active, blocked, done or dropped."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext, Respond

from bot.core import initiatives, permissions
from bot.db import transaction
from bot.runtime import Runtime
from bot.slack import messages
from bot.slack.ids import StatusChoice, load


def handle_initiative_status(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    hub: Runtime = context["hub"]
    user = body["user"]["id"]
    choice = load(StatusChoice, body["actions"][0]["selected_option"]["value"])
    with transaction(hub.sessions) as session:
        initiative = initiatives.get(session, choice.initiative)
        if initiative is None:
            return
        if not permissions.may_change_initiative(user, initiative, hub.settings):
            respond(
                text="Sorry, only the proposer, the sponsor, hub staff or admins can change an initiative's status.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        changed = initiatives.set_status(session, initiative, choice.status, hub.clock.now())
    if not changed:
        return
    with hub.sessions() as session:
        initiative = initiatives.get(session, choice.initiative)
        assert initiative is not None
        if initiative.hub_channel and initiative.hub_ts:
            text, blocks = messages.card(initiative, hub.settings)
            hub.gateway.update_message(initiative.hub_channel, initiative.hub_ts, text, blocks)
            hub.gateway.post_message(
                initiative.hub_channel, f"{messages.STATUS_EMOJI.get(choice.status, '')} <@{user}> set the status to *{choice.status}*.", thread_ts=initiative.hub_ts
            )
