"""Commitments: a promise from one function to another on one initiative, with history.

Every change is one conditional UPDATE (`… WHERE status IN (allowed) [AND due = seen]`), so a
double click or two people at once change the state once: the second finds nothing to
update and gets `None` back, which means "nothing to announce"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.core import activity, rules
from bot.core.initiatives import Outline, Refusal
from bot.core.text import clean
from bot.db import rowcount
from bot.models import Commitment, CommitmentChange, Initiative

WHAT_LIMIT = 1000
REASON_LIMIT = 1000


@dataclass(frozen=True)
class Transition:
    to: str
    allowed_from: tuple[str, ...]
    needs_date: bool = False
    needs_reason: bool = False


TRANSITIONS = {
    "done": Transition("done", rules.LIVE_COMMITMENT_STATUSES),
    "slip": Transition("slipped", rules.LIVE_COMMITMENT_STATUSES, needs_date=True, needs_reason=True),
    "blocked": Transition("blocked", rules.PENDING_COMMITMENT_STATUSES, needs_reason=True),
    "cancel": Transition("cancelled", rules.LIVE_COMMITMENT_STATUSES),
}


@dataclass(frozen=True)
class Draft:
    owner: str
    from_function: str
    to_function: str
    what: str
    due: date | None


def validate(draft: Draft, initiative: Initiative | Outline, today: date) -> Refusal:
    refusal = Refusal()
    involved = initiative.function_keys
    if not rules.is_open(initiative):
        refusal.problems["what"] = f"Initiative #{initiative.id} is {initiative.status}: it takes no new commitments."
    if draft.from_function not in involved:
        refusal.problems["from_function"] = "Choose one of the initiative's functions."
    if draft.to_function not in involved:
        refusal.problems["to_function"] = "Choose one of the initiative's functions."
    elif draft.to_function == draft.from_function:
        refusal.problems["to_function"] = "A commitment is made to another function."
    what = clean(draft.what).strip()
    if not what:
        refusal.problems.setdefault("what", "Say what is promised.")
    elif len(what) > WHAT_LIMIT:
        refusal.problems.setdefault("what", f"Keep this under {WHAT_LIMIT} characters.")
    problem = date_problem(draft.due, today, "The due date")
    if problem:
        refusal.problems["due"] = problem
    return refusal


def date_problem(day: date | None, today: date, name: str) -> str | None:
    """What is wrong with a date a person chose (`name` says which: "The due date")."""
    if day is None:
        return f"Choose {name[0].lower()}{name[1:]}."
    if day < today:
        return f"{name} is in the past."
    if rules.too_far(day, today):
        return rules.TOO_FAR
    return None


def reason_problem(reason: str, *, required: bool) -> str | None:
    reason = clean(reason).strip()
    if not reason:
        return "Give a reason: the other function needs to know." if required else None
    if len(reason) > REASON_LIMIT:
        return f"Keep this under {REASON_LIMIT} characters."
    return None


def create(
    session: Session, draft: Draft, initiative: Initiative, actor_functions: list[str], now: datetime, *, recorded_by: str | None = None
) -> Commitment:
    """The promise of `draft.owner`, or, with `recorded_by`, one that hub staff or an admin
    records on the giving function's behalf (the history keeps who did)."""
    actor = recorded_by or draft.owner
    commitment = Commitment(
        initiative_id=initiative.id,
        from_function=draft.from_function,
        to_function=draft.to_function,
        owner=draft.owner,
        what=clean(draft.what).strip(),
        due=draft.due,
        status="open",
        created_at=now,
        updated_at=now,
    )
    commitment.history.append(
        CommitmentChange(actor=actor, action="created", from_status=None, to_status="open", new_due=draft.due, at=now)
    )
    session.add(commitment)
    session.flush()
    joint_activity(session, initiative, commitment, actor, actor_functions, "commitment", now)
    return commitment


def recorded_by(commitment: Commitment) -> str | None:
    """Who recorded the promise on its function's behalf, when not its owner's own act."""
    first = commitment.history[0] if commitment.history else None
    if first is None or first.action != "created" or first.actor == commitment.owner:
        return None
    return first.actor


def validate_change(action: str, commitment: Commitment, today: date, *, new_due: date | None, reason: str) -> Refusal:
    refusal = Refusal()
    transition = TRANSITIONS[action]
    if transition.needs_date:
        problem = date_problem(new_due, today, "The new due date")
        if problem is None and new_due == commitment.due:
            problem = "That is the current due date: choose a new one."
        if problem:
            refusal.problems["due"] = problem
    if transition.needs_reason:
        problem = reason_problem(reason, required=True)
        if problem:
            refusal.problems["reason"] = problem
    return refusal


def change(
    session: Session,
    commitment: Commitment,
    initiative: Initiative,
    action: str,
    actor: str,
    actor_functions: list[str],
    now: datetime,
    *,
    seen_due: date | None = None,
    new_due: date | None = None,
    reason: str | None = None,
) -> CommitmentChange | None:
    """Apply `action` once. `seen_due` is the due date the person saw when asking to slip,
    so that submitting the same slip twice moves the date once."""
    transition = TRANSITIONS[action]
    condition = [Commitment.id == commitment.id, Commitment.status.in_(transition.allowed_from)]
    if transition.needs_date:
        condition.append(Commitment.due == (seen_due or commitment.due))
    values: dict = {"status": transition.to, "updated_at": now}
    if new_due is not None:
        values["due"] = new_due
    updated = session.execute(update(Commitment).where(*condition).values(**values).execution_options(synchronize_session=False))
    if rowcount(updated) != 1:
        return None
    old_status, old_due = commitment.status, commitment.due
    session.refresh(commitment)
    record = CommitmentChange(
        commitment_id=commitment.id,
        actor=actor,
        action=action,
        from_status=old_status,
        to_status=transition.to,
        old_due=old_due if new_due is not None else None,
        new_due=new_due,
        reason=clean(reason or "").strip() or None,
        at=now,
    )
    session.add(record)
    session.flush()
    joint_activity(session, initiative, commitment, actor, actor_functions, f"commitment_{action}", now)
    return record


def joint_activity(
    session: Session, initiative: Initiative, commitment: Commitment, actor: str, actor_functions: list[str], kind: str, at: datetime
) -> None:
    """A commitment change is joint activity of the pair it links when a function's member
    makes it; hub staff, or a sponsor who belongs to no function, do not keep a pair alive."""
    if not actor_functions:
        return
    activity.record(
        session,
        initiative,
        actor,
        actor_functions,
        kind,
        at,
        ref=f"commitment:{commitment.id}",
        joint=(commitment.from_function, commitment.to_function),
    )
