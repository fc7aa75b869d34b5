"""Message shortcut "Propose as initiative": the proposal modal, prefilled from the message."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext, Respond

from bot.core import routing
from bot.core.initiatives import TITLE_LIMIT
from bot.runtime import Runtime
from bot.slack import modals
from bot.slack.blocks import shorten
from bot.slack.modals import ProposeMeta


def handle_propose_from_message(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    hub: Runtime = context["hub"]
    message = body.get("message") or {}
    text = (message.get("text") or "").strip()
    title = shorten(text.splitlines()[0] if text else "", TITLE_LIMIT)
    suggested = routing.suggest(hub.settings, routing.ProposalText(title=title, problem=text))
    meta = ProposeMeta(channel=(body.get("channel") or {}).get("id"), message_ts=message.get("ts"))
    executives = hub.settings.hub.executives
    view = modals.propose_modal(
        hub.settings, title=title, problem=text, preselected=suggested, sponsor=executives[0] if executives else None, meta=meta
    )
    opened = hub.gateway.open_view(body["trigger_id"], view)
    if not opened.ok:
        respond(text=f":warning: The proposal form could not be opened ({opened.error}). Please try again.", response_type="ephemeral")
