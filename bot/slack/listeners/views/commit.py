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
    with hub.sessions() as session:
        initiative = initiatives.get(session, meta.initiative)
    if initiative is None:
        ack(response_action="errors", errors={Block.WHAT.value: "This initiative no longer exists."})
        return
    refusal = commitments.validate(draft, initiative, local_today(hub, user))
    if refusal:
        ack(response_action="errors", errors={Block(name).value: text for name, text in refusal.problems.items()})
        return
    ack()
    # Channel members decide the committer's functions: looked up after the ack, as it may be slow.
    actor_functions = functions_of(hub, user)
    with transaction(hub.sessions) as session:
        initiative = initiatives.get(session, meta.initiative)
        assert initiative is not None
        commitment_id = commitments.create(session, draft, initiative, actor_functions, hub.clock.now()).id
    post_commitment(hub, commitment_id)


def handle_change_submission(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    hub: Runtime = context["hub"]
    user = body["user"]["id"]
    meta = load(ChangeMeta, view.get("private_metadata"))
    action = "slip" if view.get("callback_id") == View.SLIP.value else "blocked"
    state = State(view)
    new_due = state.date(Block.DUE) if action == "slip" else None
    reason = state.text(Block.REASON)
    today = local_today(hub, user)
    with hub.sessions() as session:
        commitment = session.get(Commitment, meta.commitment)
        if commitment is None:
            problems = {"reason": "This commitment no longer exists."}
        elif not permissions.may_change_commitment(user, commitment, commitment.initiative, hub.settings):
            problems = {"reason": "Only the owner, a lead of the owner's function, the sponsor, hub staff or admins can change it."}
        else:
            problems = commitments.validate_change(action, commitment, today, new_due=new_due, reason=reason).problems
    if problems:
        ack(response_action="errors", errors={Block(name).value: text for name, text in problems.items()})
        return
    ack()
    actor_functions = functions_of(hub, user)
    seen = date.fromisoformat(meta.seen_due) if meta.seen_due else None
    with transaction(hub.sessions) as session:
        commitment = session.get(Commitment, meta.commitment)
        assert commitment is not None
        change = commitments.change(
            session, commitment, commitment.initiative, action, user, actor_functions, hub.clock.now(), seen_due=seen, new_due=new_due, reason=reason
        )
    if change is not None:
        show_change(hub, meta.commitment, change)
