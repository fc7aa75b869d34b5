"""Message shortcut "Propose as initiative": the proposal modal, prefilled from the message."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.core import routing
from bot.core.initiatives import TITLE_LIMIT
from bot.slack import modals
from bot.slack.blocks import shorten
from bot.slack.forms import open_view
from bot.slack.modals import ProposeMeta


def handle_propose_from_message(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    settings = context["hub"].settings
    message = body.get("message") or {}
    text = (message.get("text") or "").strip()
    title = shorten(text.splitlines()[0] if text else "", TITLE_LIMIT)
    suggested = routing.suggest(settings, routing.ProposalText(title=title, problem=text))
    meta = ProposeMeta(channel=(body.get("channel") or {}).get("id"), message_ts=message.get("ts"))
    view = modals.propose_modal(
        settings, title=title, problem=text, preselected=suggested, sponsor=modals.default_sponsor(settings), meta=meta
    )
    error = open_view(client, body["trigger_id"], view)
    if error:
        respond(text=f":warning: The proposal form could not be opened ({error}). Please try again.", response_type="ephemeral")
