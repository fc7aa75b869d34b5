"""`/cdo propose [title]`: open the proposal modal, functions pre-selected from the title."""

from __future__ import annotations

from bot.core import routing
from bot.slack import modals
from bot.slack.forms import open_view
from bot.slack.listeners.commands.call import CommandCall


def handle_propose(call: CommandCall) -> None:
    call.ack()
    settings = call.hub.settings
    suggested = routing.suggest(settings, routing.ProposalText(title=call.argument))
    view = modals.propose_modal(settings, title=call.argument, preselected=suggested, sponsor=modals.default_sponsor(settings))
    error = open_view(call.client, call.body["trigger_id"], view)
    if error:
        call.respond(
            text=f":warning: The proposal form could not be opened ({error}). Please run `{settings.slack.command} propose` again.",
            response_type="ephemeral",
        )
