"""Answering a request (asked with the commitment form, bot/app/commit.py): Accept, Propose
another date and Decline for the function asked, Accept <date> for the asker. Each answer is
applied once (a conditional UPDATE), announced once in the hub thread, and the request's
message is updated in place, both through the outbox.

Who may answer depends on channel membership, which may be slow to learn: buttons are
answered after their ack anyway; the two forms are checked for their fields before the ack and
for the person after it, and a refusal known only then is sent to the person as a DM.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.app import outbox, owed
from bot.app.commit import Form
from bot.app.home import refresh_homes
from bot.app.hub import Hub
from bot.app.people import functions_of, known_today, local_today
from bot.core import permissions, rules
from bot.core import requests as asks
from bot.db import transaction
from bot.models import Commitment, CommitmentChange

FORMS = (asks.OTHER_DATE, asks.DECLINED)


def _asked_name(hub: Hub, request: Commitment) -> str:
    function = hub.settings.functions.get(request.from_function)
    return function.name if function else request.from_function


def refusal(hub: Hub, user: str, request: Commitment, action: str, functions: list[str], today: date) -> str | None:
    """Why `user` may not give this answer now; None when they may. A request answered
    already needs no words: its message shows what became of it."""
    asked = _asked_name(hub, request)
    if action == asks.DATE_ACCEPTED:
        if not permissions.may_take_other_date(user, request):
            return f"Sorry, only <@{request.requested_by}>, who asked, can accept another date."
    elif action == asks.DECLINED:
        if not permissions.may_decline_request(user, request, functions):
            return f"Sorry, only {asked}'s members and leads can decline this request."
    elif not permissions.may_answer_request(request, functions):
        return f"Sorry, only {asked}'s members and leads can answer this request."
    if not rules.is_open(request.initiative):
        return f"Initiative #{request.initiative_id} is {request.initiative.status}: its requests can no longer be answered."
    if action == asks.ACCEPTED:
        return asks.waiting_problem(request, today)
    if action == asks.OTHER_DATE and request.proposed_due is not None:
        return asks.waiting_problem(request, today)
    if action == asks.DATE_ACCEPTED and request.proposed_due is not None and request.proposed_due < today:
        return f"The date proposed, {request.proposed_due.isoformat()}, has passed: decline it, and ask again."
    return None


def _request(session: Session, commitment_id: int) -> Commitment | None:
    request = session.get(Commitment, commitment_id)
    return request if request is not None and request.requested_by is not None else None


def answer_form(hub: Hub, user: str, commitment_id: int, action: str) -> Form:
    """The form to propose another date, or to decline, for someone who may."""
    functions = functions_of(hub, user)
    today = local_today(hub, user)
    with hub.sessions() as session:
        request = _request(session, commitment_id)
        if request is None:
            return Form(problem=f"There is no request #{commitment_id}.")
        if request.status != rules.REQUESTED:
            return Form(problem=f"Request #{commitment_id} was answered already.")
        problem = refusal(hub, user, request, action, functions, today)
        if problem:
            return Form(problem=problem)
        return Form(view=hub.render.answer_form(action, request.id, request.what, request.due.isoformat()))


def check_answer(hub: Hub, user: str, commitment_id: int, action: str, *, new_due: date | None, reason: str) -> dict[str, str]:
    """The form's fields, before Slack is answered: problems keyed by field."""
    with hub.sessions() as session:
        request = _request(session, commitment_id)
        if request is None:
            return {"reason": "This request no longer exists."}
        if action == asks.OTHER_DATE:
            return asks.validate_other_date(request, known_today(hub, user), new_due=new_due, note=reason).problems
        return asks.validate_decline(reason).problems


def answer(
    hub: Hub,
    user: str,
    commitment_id: int,
    action: str,
    *,
    seen: date | None = None,
    new_due: date | None = None,
    reason: str = "",
    submission: str | None = None,
) -> str | None:
    """Apply the answer once and announce it. What to tell the person when they may not give
    it; with `submission` (a form's view ID) that is sent to them as a DM instead."""
    functions = functions_of(hub, user)
    today = local_today(hub, user)
    now = hub.clock.now()
    with transaction(hub.sessions) as session:
        request = _request(session, commitment_id)
        if request is None or request.status != rules.REQUESTED:
            return None if request is not None else f"There is no request #{commitment_id}."
        problem = refusal(hub, user, request, action, functions, today)
        if problem:
            if submission is None:
                return problem
            keys = owed.owe_notice(session, submission, user, problem, now, initiative_id=request.initiative_id)
            change = None
        else:
            change = _apply(session, request, action, user, functions, now, seen=seen, new_due=new_due, reason=reason)
            if change is None:
                return None  # a second click, or someone else answered first
            keys = owed.owe_change(session, change, request.initiative_id, now)
        function = hub.settings.functions.get(request.from_function)
        people = (user, request.requested_by, request.owner, *(function.leads if function else ()))
        concerned: list[str] = [person for person in people if person is not None]
    outbox.drain(hub, keys=keys)
    if change is not None:
        refresh_homes(hub, *concerned)
    return None


def _apply(
    session: Session,
    request: Commitment,
    action: str,
    user: str,
    functions: list[str],
    now: datetime,
    *,
    seen: date | None,
    new_due: date | None,
    reason: str,
) -> CommitmentChange | None:
    if action == asks.ACCEPTED:
        return asks.accept(session, request, user, functions, now)
    if action == asks.OTHER_DATE:
        assert new_due is not None  # checked with the form
        return asks.propose_date(session, request, user, functions, now, new_due=new_due, note=reason)
    if action == asks.DATE_ACCEPTED:
        assert seen is not None  # carried by the button
        return asks.accept_date(session, request, user, functions, now, seen=seen)
    return asks.decline(session, request, user, functions, now, reason=reason)
