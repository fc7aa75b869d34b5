"""A journey was chosen in the proposal modal: add the functions the configuration ties to it."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.core import routing
from bot.slack import modals
from bot.slack.forms import update_view
from bot.slack.ids import Block, load
from bot.slack.modals import ProposeMeta, State

log = logging.getLogger(__name__)


def handle_journey_changed(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    settings = context["hub"].settings
    view = body["view"]
    state = State(view)
    meta = load(ProposeMeta, view.get("private_metadata"))
    journey = state.option(Block.JOURNEY)
    chosen = list(state.options(Block.FUNCTIONS))
    for key in routing.suggest(settings, routing.ProposalText(), journey) if journey else ():
        if key not in chosen:
            chosen.append(key)
    new_view = modals.propose_modal(
        settings,
        title=state.text(Block.TITLE),
        problem=state.text(Block.PROBLEM),
        journey=journey,
        preselected=chosen,
        sponsor=state.user(Block.SPONSOR),
        obstacles=state.text(Block.OBSTACLES),
        meta=replace(meta, functions_version=meta.functions_version + 1),
    )
    error = update_view(client, view["id"], view.get("hash"), new_view)
    if error:  # the person changed the form meanwhile (hash_conflict), or it was closed
        log.info("the proposal form %s was not updated: %s", view["id"], error)
