"""A journey was chosen in the proposal modal: add the functions the configuration ties to it."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext

from bot.core import routing
from bot.runtime import Runtime
from bot.slack import modals
from bot.slack.ids import Block, load
from bot.slack.modals import ProposeMeta, State


def handle_journey_changed(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    hub: Runtime = context["hub"]
    view = body["view"]
    state = State(view)
    meta = load(ProposeMeta, view.get("private_metadata"))
    journey = state.option(Block.JOURNEY)
    chosen = list(state.options(Block.FUNCTIONS))
    for key in routing.suggest(hub.settings, routing.ProposalText(), journey) if journey else ():
        if key not in chosen:
            chosen.append(key)
    new_view = modals.propose_modal(
        hub.settings,
        title=state.text(Block.TITLE),
        problem=state.text(Block.PROBLEM),
        journey=journey,
        preselected=chosen,
        sponsor=state.user(Block.SPONSOR),
        obstacles=state.text(Block.OBSTACLES),
        meta=ProposeMeta(meta.channel, meta.message_ts, meta.functions_version + 1),
    )
    hub.gateway.call("views.update", view_id=view["id"], hash=view.get("hash"), view=new_view)
