"""The proposal modal is submitted: validate, store, close the modal, then route."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext

from bot.core import initiatives
from bot.core.initiatives import Proposal, SponsorCheck
from bot.db import transaction
from bot.runtime import Runtime
from bot.slack.delivery import deliver
from bot.slack.ids import Block, load
from bot.slack.people import local_today
from bot.slack.modals import ProposeMeta, State, functions_block

FIELD_BLOCKS = {"title": Block.TITLE, "problem": Block.PROBLEM, "journey": Block.JOURNEY, "sponsor": Block.SPONSOR, "target_date": Block.TARGET_DATE, "obstacles": Block.OBSTACLES}


def read_proposal(view: dict, user: str) -> tuple[Proposal, ProposeMeta]:
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


def sponsor_check(hub: Runtime, sponsor: str | None) -> SponsorCheck | None:
    if not sponsor:
        return None
    info = hub.directory.user(sponsor)
    if info is None:
        return SponsorCheck(exists=False)
    return SponsorCheck(is_bot=info.is_bot, deleted=info.deleted)


def handle_propose_submission(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    hub: Runtime = context["hub"]
    user = body["user"]["id"]
    proposal, meta = read_proposal(view, user)
    refusal = initiatives.validate(proposal, hub.settings, local_today(hub, user), sponsor_check(hub, proposal.sponsor))
    if refusal:
        errors = {
            (functions_block(meta.functions_version) if name == "functions" else FIELD_BLOCKS[name].value): message
            for name, message in refusal.problems.items()
        }
        ack(response_action="errors", errors=errors)
        return
    with transaction(hub.sessions) as session:
        initiative_id = initiatives.create(session, proposal, hub.settings, hub.clock.now()).id
    ack()
    if meta.channel and meta.message_ts:
        link = hub.gateway.permalink(meta.channel, meta.message_ts)
        with transaction(hub.sessions) as session:
            initiatives.set_source_link(session, initiative_id, link)
    deliver(hub, initiative_id)
