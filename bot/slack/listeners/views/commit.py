"""The Commit, Slip and Blocked modals are submitted."""

from __future__ import annotations

from datetime import date

from slack_bolt import Ack, BoltContext

from bot.core import commitments, initiatives, permissions
from bot.db import transaction
from bot.models import Commitment
from bot.runtime import Runtime
from bot.slack.commitments import post_commitment, show_change
from bot.slack.ids import Block, View, load
from bot.slack.modals import ChangeMeta, CommitMeta, State
from bot.slack.people import functions_of, local_today


def handle_commit_submission(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    hub: Runtime = context["hub"]
    user = body["user"]["id"]
    meta = load(CommitMeta, view.get("private_metadata"))
    state = State(view)
    draft = commitments.Draft(
        owner=user,
        from_function=state.option(Block.FROM_FUNCTION) or "",
        to_function=state.option(Block.TO_FUNCTION) or "",
        what=state.text(Block.WHAT),
        due=state.date(Block.DUE),
    )
    today = local_today(hub, user)
    actor_functions = functions_of(hub, user)
    with transaction(hub.sessions) as session:
        initiative = initiatives.get(session, meta.initiative)
        if initiative is None:
            ack(response_action="errors", errors={Block.WHAT.value: "This initiative no longer exists."})
            return
        refusal = commitments.validate(draft, initiative, today)
        if refusal:
            ack(response_action="errors", errors={Block(name).value: text for name, text in refusal.problems.items()})
            return
        commitment_id = commitments.create(session, draft, initiative, actor_functions, hub.clock.now()).id
    ack()
    post_commitment(hub, commitment_id)


def handle_change_submission(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    hub: Runtime = context["hub"]
    user = body["user"]["id"]
    meta = load(ChangeMeta, view.get("private_metadata"))
    action = "slip" if view.get("callback_id") == View.SLIP.value else "blocked"
    state = State(view)
    new_due = state.date(Block.DUE) if action == "slip" else None
    reason = state.text(Block.REASON)
    actor_functions = functions_of(hub, user)
    today = local_today(hub, user)
    with transaction(hub.sessions) as session:
        commitment = session.get(Commitment, meta.commitment)
        if commitment is None:
            ack(response_action="errors", errors={Block.REASON.value: "This commitment no longer exists."})
            return
        if not permissions.may_change_commitment(user, commitment, commitment.initiative, hub.settings):
            ack(response_action="errors", errors={Block.REASON.value: "Only the owner, a lead of the owner's function, the sponsor, hub staff or admins can change it."})
            return
        refusal = commitments.validate_change(action, commitment, today, new_due=new_due, reason=reason)
        if refusal:
            ack(response_action="errors", errors={Block(name).value: text for name, text in refusal.problems.items()})
            return
        seen = date.fromisoformat(meta.seen_due) if meta.seen_due else None
        change = commitments.change(
            session, commitment, commitment.initiative, action, user, actor_functions, hub.clock.now(), seen_due=seen, new_due=new_due, reason=reason
        )
    ack()
    if change is not None:
        show_change(hub, meta.commitment, change)
