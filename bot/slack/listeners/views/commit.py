"""The Commit, Slip and Blocked modals are submitted."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.app import commit
from bot.app.hub import Hub
from bot.core.commitments import Draft
from bot.slack.ids import Block, View, load
from bot.slack.modals import ON_BEHALF, ChangeMeta, CommitMeta, State


def errors_of(problems: dict[str, str]) -> dict[str, str]:
    return {Block(name).value: text for name, text in problems.items()}


def handle_commit_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    hub: Hub = context["hub"]
    meta = load(CommitMeta, view.get("private_metadata"))
    state = State(view)
    draft = Draft(
        owner=body["user"]["id"],
        from_function=state.option(Block.FROM_FUNCTION) or "",
        to_function=state.option(Block.TO_FUNCTION) or "",
        what=state.text(Block.WHAT),
        due=state.date(Block.DUE),
    )
    problems = commit.check_commitment(hub, meta.initiative, draft)
    if problems:
        ack(response_action="errors", errors=errors_of(problems))
        return
    ack()
    on_behalf = state.ticked(Block.ON_BEHALF, ON_BEHALF)
    commit.record(hub, meta.initiative, draft, submission=view.get("id"), on_behalf=on_behalf)


def handle_change_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    hub: Hub = context["hub"]
    user = body["user"]["id"]
    meta = load(ChangeMeta, view.get("private_metadata"))
    action = "slip" if view.get("callback_id") == View.SLIP.value else "blocked"
    state = State(view)
    new_due = state.date(Block.DUE) if action == "slip" else None
    reason = state.text(Block.REASON)
    problems = commit.check_change(hub, user, meta.commitment, action, new_due=new_due, reason=reason)
    if problems:
        ack(response_action="errors", errors=errors_of(problems))
        return
    ack()
    seen = date.fromisoformat(meta.seen_due) if meta.seen_due else None
    commit.apply(hub, user, meta.commitment, action, seen_due=seen, new_due=new_due, reason=reason)
