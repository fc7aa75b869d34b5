"""Message shortcut "Propose as initiative": the proposal modal, prefilled from the message.

The form opens at once (its trigger lives three seconds). Then, when the message's channel has
readers the hub channel does not (a private channel, one shared with another organisation),
the form is updated with a warning that what is proposed will be visible in the hub channel;
if it cannot be updated, the warning comes as a message only the proposer sees.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.app import audience
from bot.app.port import SlackUnavailable
from bot.core import routing
from bot.core.audience import Barrier
from bot.core.initiatives import TITLE_LIMIT
from bot.slack import modals
from bot.slack.blocks import shorten
from bot.slack.forms import open_view_to_update, update_view
from bot.slack.modals import ProposeMeta

log = logging.getLogger(__name__)


def handle_propose_from_message(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    hub = context["hub"]
    settings = hub.settings
    message = body.get("message") or {}
    text = (message.get("text") or "").strip()
    title = shorten(text.splitlines()[0] if text else "", TITLE_LIMIT)
    suggested = routing.suggest(settings, routing.ProposalText(title=title, problem=text))
    meta = ProposeMeta(channel=(body.get("channel") or {}).get("id"), message_ts=message.get("ts"))

    def form(meta: ProposeMeta) -> dict[str, Any]:
        return modals.propose_modal(
            settings, title=title, problem=text, preselected=suggested, sponsor=modals.default_sponsor(settings), meta=meta
        )

    error, opened = open_view_to_update(client, body["trigger_id"], form(meta))
    if error:
        respond(text=f":warning: The proposal form could not be opened ({error}). Please try again.", response_type="ephemeral")
        return
    if meta.channel is None:
        return
    try:
        barrier = audience.barrier(hub, meta.channel)
    except SlackUnavailable:
        barrier = Barrier.UNKNOWN  # warn rather than stay silent on a guess
    if barrier is None:
        return
    warned = replace(meta, barrier=barrier.value)
    problem = update_view(client, str(opened.get("id") or ""), opened.get("hash"), form(warned))
    if problem:
        log.info("the proposal form %s could not carry its warning (%s): said in a message instead", opened.get("id"), problem)
        warning = modals.source_warning(barrier.value, settings.hub.channel)
        respond(text=warning["text"]["text"], blocks=[warning], response_type="ephemeral")
