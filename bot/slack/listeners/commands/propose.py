"""`/cdo propose [title]`: open the proposal modal, functions pre-selected from the title."""

from __future__ import annotations

from bot.core import routing
from bot.slack import modals
from bot.slack.listeners.commands.cdo import CommandCall


def default_sponsor(call: CommandCall) -> str | None:
    executives = call.hub.settings.hub.executives
    return executives[0] if executives else None


def handle_propose(call: CommandCall) -> None:
    call.ack()
    settings = call.hub.settings
    suggested = routing.suggest(settings, routing.ProposalText(title=call.argument))
    view = modals.propose_modal(settings, title=call.argument, preselected=suggested, sponsor=default_sponsor(call))
    opened = call.hub.gateway.open_view(call.body["trigger_id"], view)
    if not opened.ok:
        call.respond(
            text=f":warning: The proposal form could not be opened ({opened.error}). Please run "
            f"`{settings.slack.command} propose` again.",
            response_type="ephemeral",
        )
