"""The proposal modal is submitted: check, store, close the modal, then route."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.app import propose
from bot.app.hub import Hub
from bot.core.initiatives import Proposal
from bot.slack.ids import Block, load
from bot.slack.modals import ProposeMeta, State, functions_block

FIELD_BLOCKS = {
    "title": Block.TITLE,
    "problem": Block.PROBLEM,
    "journey": Block.JOURNEY,
    "sponsor": Block.SPONSOR,
    "target_date": Block.TARGET_DATE,
    "obstacles": Block.OBSTACLES,
}


def read_proposal(view: dict[str, Any], user: str) -> tuple[Proposal, ProposeMeta]:
    state = State(view)
    meta = load(ProposeMeta, view.get("private_metadata"))
    proposal = Proposal(
        proposer=user,
        title=state.text(Block.TITLE),
        problem=state.text(Block.PROBLEM),
        journey=state.option(Block.JOURNEY) or "",
        functions=tuple(state.options(Block.FUNCTIONS)),
        sponsor=state.user(Block.SPONSOR),
        target_date=state.date(Block.TARGET_DATE),
        obstacles=state.text(Block.OBSTACLES),
        source_channel=meta.channel,
    )
    return proposal, meta


def handle_propose_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    hub: Hub = context["hub"]
    proposal, meta = read_proposal(view, body["user"]["id"])
    refusal = propose.check(hub, proposal)
    if refusal:
        errors = {
            (functions_block(meta.functions_version) if name == "functions" else FIELD_BLOCKS[name].value): message
            for name, message in refusal.problems.items()
        }
        ack(response_action="errors", errors=errors)
        return
    try:
        initiative_id = propose.store(hub, proposal, submission=view.get("id"), introduction=meta.introduction)
    except propose.AlreadyProposed:
        ack(response_action="errors", errors={Block.TITLE.value: "This introduction was already proposed as an initiative."})
        return
    ack()
    if initiative_id is None:
        return  # the same form, submitted again while the first answer was on its way
    source = (meta.channel, meta.message_ts) if meta.channel and meta.message_ts else None
    propose.route(hub, initiative_id, source=source)
