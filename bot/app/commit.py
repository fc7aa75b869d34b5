"""Commit: record a promise from one function to another, or a request to a function, and
change a promise (done, slip, blocked) — each change announced once in the hub thread, the
commitment's message updated in place (both through the outbox), and the Home tabs of the
people concerned republished. Requests are answered in bot/app/requests.py.

A function's promise is made by that function (`permissions.way_to_commit`): the same form
sent by anyone else on the initiative asks it instead, and nobody outside the initiative's
functions (but its sponsor, hub staff and admins) can do either.

Forms are checked before Slack is answered (`check_*`, errors shown in the form); what is
slow — channel members for the sender's functions, posting — comes after (`record`, `apply`),
so a refusal that only the channel members can tell is sent to the person as a DM.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from bot.app import audience, outbox, owed
from bot.app.home import refresh_homes
from bot.app.hub import Hub
from bot.app.people import functions_of, known_today
from bot.core import commitments, events, initiatives, permissions, requests
from bot.core.commitments import Draft
from bot.core.permissions import Way
from bot.db import reading, transaction
from bot.logs import about
from bot.models import Commitment, Initiative

REFUSAL = "Sorry, only the commitment's owner, a lead of the owner's function, the sponsor, hub staff or admins can change it."


def outsider(hub: Hub, initiative: Initiative) -> str:
    """Why someone outside the initiative's functions may neither promise nor ask."""
    names = " or ".join(hub.settings.functions[key].name if key in hub.settings.functions else key for key in initiative.function_keys)
    return f"Sorry, only people in {names}, the sponsor, hub staff and admins can promise or ask something on initiative #{initiative.id}."


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
    functions = functions_of(hub, user)
    if not permissions.may_ask(user, initiative, functions, hub.settings):
        return Form(problem=outsider(hub, initiative))
    mine = [key for key in functions if key in initiative.function_keys]
    view = hub.render.commit_form(
        hub.settings,
        initiative.id,
        initiative.title,
        initiative.function_keys,
        mine[0] if mine else None,
        mine=mine,
        on_behalf=permissions.may_act_for_hub(user, hub.settings),
    )
    return Form(view=view)


def check_commitment(hub: Hub, initiative_id: int, draft: Draft) -> dict[str, str]:
    """Problems keyed by field; empty when the commitment can be recorded."""
    with reading(hub.engine) as connection:
        initiative = initiatives.outline(connection, initiative_id)
        today = known_today(hub, draft.owner, connection)
    if initiative is None:
        return {"what": "This initiative no longer exists."}
    return commitments.validate(draft, initiative, today).problems


def record(hub: Hub, initiative_id: int, draft: Draft, *, submission: str | None = None, on_behalf: bool = False) -> int | None:
    with about(initiative_id=initiative_id):
        return _record(hub, initiative_id, draft, submission=submission, on_behalf=on_behalf)


def _record(hub: Hub, initiative_id: int, draft: Draft, *, submission: str | None, on_behalf: bool) -> int | None:
    """Record what the form says: `draft.owner`'s promise, a promise on the giving function's
    behalf (hub staff and admins who ask for it: its lead owns it), or a request to the giving
    function. None when this form (`submission`, its view ID) was recorded already, or when the
    person may do neither (they are told in a DM)."""
    # Channel members decide the sender's functions: looked up after the ack, as it may be slow.
    user = draft.owner
    actor_functions = functions_of(hub, user)
    now = hub.clock.now()
    try:
        with transaction(hub.sessions) as session:
            if submission:
                events.claim(session, f"view:{submission}", now)
            initiative = initiatives.get(session, initiative_id)
            assert initiative is not None
            way = permissions.way_to_commit(user, draft.from_function, initiative, actor_functions, hub.settings, on_behalf=on_behalf)
            if way is Way.REFUSED:
                keys = owed.owe_notice(session, submission or f"{user}:{now.timestamp()}", user, outsider(hub, initiative), now)
                commitment = None
            elif way is Way.REQUEST:
                commitment = requests.ask(session, draft, initiative, user, actor_functions, now)
            elif way is Way.ON_BEHALF:
                lead = hub.settings.functions[draft.from_function].leads[0]
                commitment = commitments.create(session, replace(draft, owner=lead), initiative, actor_functions, now, recorded_by=user)
            else:
                commitment = commitments.create(session, draft, initiative, actor_functions, now)
            if commitment is not None:
                keys = owed.owe_commitment(session, commitment, now)
                commitment_id = commitment.id
    except events.AlreadyProcessed:
        return None
    outbox.drain(hub, keys=keys)
    if commitment is None:
        return None
    # Whose Home tab shows it: the owner's, or the asker's and the leads' of the function asked.
    asked = hub.settings.functions[draft.from_function].leads if way is Way.REQUEST else ()
    concerned: list[str] = [person for person in (commitment.owner, commitment.requested_by, *asked) if person is not None]
    refresh_homes(hub, *concerned)
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
    refresh_homes(hub, *(person for person in (owner, user) if person is not None))
    return True


def done(hub: Hub, user: str, commitment_id: int) -> str | None:
    """The Done button: what to tell the person when they may not press it."""
    if _authorised(hub, user, commitment_id) is None:
        return REFUSAL
    apply(hub, user, commitment_id, "done")  # a second click finds it done already: nothing to announce
    return None
