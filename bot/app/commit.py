"""Commit: record a promise from one function to another, and change it (done, slip,
blocked) — each change announced once in the hub thread, the commitment's message updated in
place (both through the outbox), and the Home tabs of the people concerned republished.

Forms are checked before Slack is answered (`check_*`, errors shown in the form); what is
slow — channel members for the committer's functions, posting — comes after (`record`, `apply`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.app import audience, outbox, owed
from bot.app.home import refresh_homes
from bot.app.hub import Hub
from bot.app.people import functions_of, known_today
from bot.core import commitments, events, initiatives, permissions
from bot.core.commitments import Draft
from bot.db import transaction
from bot.models import Commitment

REFUSAL = "Sorry, only the commitment's owner, a lead of the owner's function, the sponsor, hub staff or admins can change it."


@dataclass(frozen=True)
class Form:
    """A form to open, or why it cannot be opened."""

    view: dict[str, Any] | None = None
    problem: str | None = None


def commit_form(hub: Hub, user: str, initiative_id: int) -> Form:
    with hub.sessions() as session:
        initiative = initiatives.get(session, initiative_id)
    if initiative is None:
        return Form(problem=f"There is no initiative #{initiative_id}.")
    if not audience.viewer(hub, user).may_see(initiative):
        return Form(problem=audience.not_shown(initiative_id))
    if initiative.status not in initiatives.OPEN_STATUSES:
        return Form(problem=f"Initiative #{initiative_id} is {initiative.status}: it takes no new commitments.")
    mine = [key for key in functions_of(hub, user) if key in initiative.function_keys]
    view = hub.render.commit_form(hub.settings, initiative.id, initiative.title, initiative.function_keys, mine[0] if mine else None)
    return Form(view=view)


def check_commitment(hub: Hub, initiative_id: int, draft: Draft) -> dict[str, str]:
    """Problems keyed by field; empty when the commitment can be recorded."""
    with hub.sessions() as session:
        initiative = initiatives.get(session, initiative_id)
    if initiative is None:
        return {"what": "This initiative no longer exists."}
    return commitments.validate(draft, initiative, known_today(hub, draft.owner)).problems


def record(hub: Hub, initiative_id: int, draft: Draft, *, submission: str | None = None) -> int | None:
    """Record the commitment; None when this form (`submission`, its view ID) was recorded already."""
    # Channel members decide the committer's functions: looked up after the ack, as it may be slow.
    actor_functions = functions_of(hub, draft.owner)
    try:
        with transaction(hub.sessions) as session:
            if submission:
                events.claim(session, f"view:{submission}", hub.clock.now())
            initiative = initiatives.get(session, initiative_id)
            assert initiative is not None
            commitment = commitments.create(session, draft, initiative, actor_functions, hub.clock.now())
            keys = owed.owe_commitment(session, commitment, hub.clock.now())
            commitment_id, owner = commitment.id, commitment.owner
    except events.AlreadyProcessed:
        return None
    outbox.drain(hub, keys=keys)
    refresh_homes(hub, owner)
    return commitment_id


def _authorised(hub: Hub, user: str, commitment_id: int) -> Commitment | None:
    with hub.sessions() as session:
        commitment = session.get(Commitment, commitment_id)
        if commitment is None:
            return None
        allowed = permissions.may_change_commitment(user, commitment, commitment.initiative, hub.settings)
        return commitment if allowed else None


def change_form(hub: Hub, user: str, commitment_id: int, action: str) -> Form:
    """The Slip or Blocked form, for someone who may change the commitment."""
    commitment = _authorised(hub, user, commitment_id)
    if commitment is None:
        return Form(problem=REFUSAL)
    if commitment.status not in commitments.TRANSITIONS[action].allowed_from:
        return Form(problem=f"Commitment #{commitment.id} is {commitment.status} already.")
    return Form(view=hub.render.change_form(action, commitment.id, commitment.what, commitment.due.isoformat()))


def check_change(hub: Hub, user: str, commitment_id: int, action: str, *, new_due: date | None, reason: str) -> dict[str, str]:
    today = known_today(hub, user)
    with hub.sessions() as session:
        commitment = session.get(Commitment, commitment_id)
        if commitment is None:
            return {"reason": "This commitment no longer exists."}
        if not permissions.may_change_commitment(user, commitment, commitment.initiative, hub.settings):
            return {"reason": REFUSAL}
        return commitments.validate_change(action, commitment, today, new_due=new_due, reason=reason).problems


def apply(
    hub: Hub,
    user: str,
    commitment_id: int,
    action: str,
    *,
    seen_due: date | None = None,
    new_due: date | None = None,
    reason: str | None = None,
) -> bool:
    """Change the commitment once and announce it; False when there was nothing to change
    (a second click, or someone else was first)."""
    actor_functions = functions_of(hub, user)
    with transaction(hub.sessions) as session:
        commitment = session.get(Commitment, commitment_id)
        assert commitment is not None
        change = commitments.change(
            session,
            commitment,
            commitment.initiative,
            action,
            user,
            actor_functions,
            hub.clock.now(),
            seen_due=seen_due,
            new_due=new_due,
            reason=reason,
        )
        if change is None:
            return False
        keys = owed.owe_change(session, change, commitment.initiative_id, hub.clock.now())
        owner = commitment.owner
    outbox.drain(hub, keys=keys)
    refresh_homes(hub, owner, user)
    return True


def done(hub: Hub, user: str, commitment_id: int) -> str | None:
    """The Done button: what to tell the person when they may not press it."""
    if _authorised(hub, user, commitment_id) is None:
        return REFUSAL
    apply(hub, user, commitment_id, "done")  # a second click finds it done already: nothing to announce
    return None
