"""Requests: one function asks another for something. The function asked accepts it (it
becomes a promise owned by whoever accepted), proposes another date (which goes back to the
asker to accept: then it is a promise of whoever proposed it), or declines it with a reason.

A request is a `Commitment` row in status `requested` with `requested_by` set and no owner;
bot.core.rules says what it counts for (never overdue; unanswered, it stalls the pair).
Every answer is one conditional UPDATE, as for commitments: a double click, or two people at
once, answers once, and the second gets `None` back ("nothing to announce")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from bot.core import activity, pairs, rules
from bot.core.commitments import Draft, date_problem, joint_activity, reason_problem
from bot.core.initiatives import Refusal
from bot.core.people import ERASED
from bot.core.text import clean
from bot.db import rowcount
from bot.models import Commitment, CommitmentChange, Initiative

# CommitmentChange.action of each step of a request
ASKED, ACCEPTED, OTHER_DATE, DATE_ACCEPTED, DECLINED = "requested", "accepted", "other_date", "date_accepted", "declined"


def ask(session: Session, draft: Draft, initiative: Initiative, asker: str, asker_functions: list[str], now: datetime) -> Commitment:
    """Ask `draft.from_function` for `draft.what` by `draft.due`, on behalf of `asker`."""
    request = Commitment(
        initiative_id=initiative.id,
        from_function=draft.from_function,
        to_function=draft.to_function,
        owner=None,
        requested_by=asker,
        what=clean(draft.what).strip(),
        due=draft.due,
        status=rules.REQUESTED,
        created_at=now,
        updated_at=now,
    )
    request.history.append(
        CommitmentChange(actor=asker, action=ASKED, from_status=None, to_status=rules.REQUESTED, new_due=draft.due, at=now)
    )
    session.add(request)
    session.flush()
    # The asker's functions acted; the function asked has not, yet: this is not a meeting.
    activity.record(session, initiative, asker, asker_functions, "request", now, ref=f"commitment:{request.id}")
    pairs.check_soon(session, initiative.id, (request.from_function, request.to_function), now)
    return request


def waiting_problem(request: Commitment, today: date) -> str | None:
    """Why the function asked cannot accept the request as asked, if it cannot."""
    if not rules.is_open(request.initiative):
        return f"Initiative #{request.initiative_id} is {request.initiative.status}: it takes no new commitments."
    if request.proposed_due is not None:
        return f"Another date, {request.proposed_due.isoformat()}, waits for the person who asked to accept it."
    if request.due < today:
        return f"The date asked for, {request.due.isoformat()}, has passed: propose another date instead."
    return None


def validate_other_date(request: Commitment, today: date, *, new_due: date | None, note: str) -> Refusal:
    refusal = Refusal()
    problem = date_problem(new_due, today, "The date")
    if problem is None and new_due == request.due:
        problem = "That is the date asked for: accept the request instead."
    if problem:
        refusal.problems["due"] = problem
    problem = reason_problem(note, required=False)
    if problem:
        refusal.problems["reason"] = problem
    return refusal


def validate_decline(reason: str) -> Refusal:
    refusal = Refusal()
    problem = reason_problem(reason, required=True)
    if problem:
        refusal.problems["reason"] = problem
    return refusal


def accept(session: Session, request: Commitment, actor: str, actor_functions: list[str], now: datetime) -> CommitmentChange | None:
    """The function asked promises it, as asked: the request becomes `actor`'s commitment."""
    return _answer(
        session,
        request,
        ACCEPTED,
        actor,
        actor_functions,
        now,
        where=[Commitment.proposed_due.is_(None)],
        values={"status": "open", "owner": actor},
        to_status="open",
    )


def propose_date(
    session: Session, request: Commitment, actor: str, actor_functions: list[str], now: datetime, *, new_due: date, note: str
) -> CommitmentChange | None:
    """The function asked offers another date; it goes back to the asker."""
    return _answer(
        session,
        request,
        OTHER_DATE,
        actor,
        actor_functions,
        now,
        where=[Commitment.proposed_due.is_(None)],
        values={"proposed_due": new_due, "proposed_by": actor},
        to_status=rules.REQUESTED,
        old_due=request.due,
        new_due=new_due,
        reason=note,
    )


def accept_date(
    session: Session, request: Commitment, actor: str, actor_functions: list[str], now: datetime, *, seen: date
) -> CommitmentChange | None:
    """The asker takes the other date `seen` on its button: the request becomes the promise
    of whoever proposed that date."""
    proposer = request.proposed_by
    if proposer is None:
        return None
    return _answer(
        session,
        request,
        DATE_ACCEPTED,
        actor,
        actor_functions,
        now,
        where=[Commitment.proposed_due == seen, Commitment.proposed_by == proposer],
        values={
            "status": "open",
            "owner": None if proposer == ERASED else proposer,
            "due": seen,
            "proposed_due": None,
            "proposed_by": None,
        },
        to_status="open",
        old_due=request.due,
        new_due=seen,
    )


def decline(
    session: Session, request: Commitment, actor: str, actor_functions: list[str], now: datetime, *, reason: str
) -> CommitmentChange | None:
    return _answer(
        session,
        request,
        DECLINED,
        actor,
        actor_functions,
        now,
        where=[],
        values={"status": rules.DECLINED},
        to_status=rules.DECLINED,
        reason=reason,
    )


def _answer(
    session: Session,
    request: Commitment,
    action: str,
    actor: str,
    actor_functions: list[str],
    now: datetime,
    *,
    where: list[ColumnElement[bool]],
    values: dict[str, Any],
    to_status: str,
    old_due: date | None = None,
    new_due: date | None = None,
    reason: str | None = None,
) -> CommitmentChange | None:
    condition = [Commitment.id == request.id, Commitment.status == rules.REQUESTED, *where]
    updated = session.execute(
        update(Commitment).where(*condition).values(**values, updated_at=now).execution_options(synchronize_session=False)
    )
    if rowcount(updated) != 1:
        return None
    session.refresh(request)
    record = CommitmentChange(
        commitment_id=request.id,
        actor=actor,
        action=action,
        from_status=rules.REQUESTED,
        to_status=to_status,
        old_due=old_due,
        new_due=new_due,
        reason=clean(reason or "").strip() or None,
        at=now,
    )
    session.add(record)
    session.flush()
    # An answer is the two functions meeting, when someone of a function gives it.
    joint_activity(session, request.initiative, request, actor, actor_functions, f"request_{action}", now)
    pairs.check_soon(session, request.initiative_id, (request.from_function, request.to_function), now)
    return record
