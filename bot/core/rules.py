"""The rules every view of initiatives and commitments shares, each defined once.

Each rule comes in the two forms the code needs, built from the same constants: a predicate
for one loaded object (`is_overdue(commitment, today)`) and a SQLAlchemy expression for
queries (`overdue(today)`). tests/test_rules.py checks on real databases that both agree.

- An initiative is *open* while proposed, active or blocked; done and dropped are closed.
- A commitment is *live* while open, slipped or blocked on an open initiative: it is still owed.
- It is *pending* when open or slipped on an open initiative: its owner is the one to act.
  A *blocked* one (live, not pending) waits on someone else, so it is never late.
- A pending commitment is *overdue* when due before today, *due soon* when due within the
  next DUE_SOON_DAYS days, today included (today <= due <= today + 6), and *due later* after
  that: every pending commitment is exactly one of the three.
- A *request* (status requested, on an open initiative) asks a function for something it has
  not promised yet: it is never live, pending or overdue, only promises are. It is
  *unanswered* while no other date proposed by that function waits for the asker: the
  answer is the asked function's to give. One that was answered is accepted (it became a
  promise: `requested_by` is set and its status is a promise's) or declined.

A date a person types (an initiative's target date, a commitment's due date, a slip's new
date) is at most MAX_DATE_YEARS ahead (`too_far`): further than that is a typo, not a plan.

`today` is a day in someone's calendar, and the caller chooses whose: the hub's time zone for
the hub-wide views (pair health, the digest, the pairs and commitments reports), the person's
own on their App Home.

The predicates read `commitment.initiative`: load it together with many commitments
(`selectinload`, `contains_eager`) rather than one query each.
"""

from __future__ import annotations

from datetime import MAXYEAR, date, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, and_

from bot.models import Commitment, Initiative

INITIATIVE_STATUSES = ("proposed", "active", "blocked", "done", "dropped")
OPEN_INITIATIVE_STATUSES = ("proposed", "active", "blocked")

COMMITMENT_STATUSES = ("requested", "declined", "open", "slipped", "blocked", "done", "cancelled")
REQUESTED, DECLINED = "requested", "declined"
LIVE_COMMITMENT_STATUSES = ("open", "slipped", "blocked")
PENDING_COMMITMENT_STATUSES = ("open", "slipped")
BLOCKED_COMMITMENT_STATUSES = ("blocked",)

DUE_SOON_DAYS = 7  # calendar days, today included
MAX_DATE_YEARS = 10
TOO_FAR = "Choose a date within ten years."  # the words for MAX_DATE_YEARS


def last_soon_day(today: date) -> date:
    """The last due date that is still "due soon" seen from `today`."""
    return today + timedelta(days=DUE_SOON_DAYS - 1)


def first_late_day(due: date) -> date:
    """The first day on which a pending commitment due on `due` is overdue."""
    return due + timedelta(days=1)


def last_allowed_day(today: date) -> date:
    """The furthest date a person may type: MAX_DATE_YEARS from `today`, to the day."""
    year = today.year + MAX_DATE_YEARS
    if year > MAXYEAR:
        return date.max
    try:
        return today.replace(year=year)
    except ValueError:  # 29 February, in a year that has none
        return date(year, 2, 28)


def too_far(day: date, today: date) -> bool:
    return day > last_allowed_day(today)


# --- initiatives -----------------------------------------------------------------------------


class HasStatus(Protocol):
    """An initiative, or what a check read of it (bot.core.initiatives.Outline)."""

    @property
    def status(self) -> str: ...


def is_open(initiative: HasStatus) -> bool:
    return initiative.status in OPEN_INITIATIVE_STATUSES


def open_initiative() -> ColumnElement[bool]:
    return Initiative.status.in_(OPEN_INITIATIVE_STATUSES)


# --- commitments -----------------------------------------------------------------------------
# The expressions test the initiative with EXISTS, so they fit any query on commitments
# whether or not it joins the initiatives.


def _on_open_initiative() -> ColumnElement[bool]:
    return Commitment.initiative.has(open_initiative())


def _status_on_open(commitment: Commitment, statuses: tuple[str, ...]) -> bool:
    return commitment.status in statuses and is_open(commitment.initiative)


def is_live(commitment: Commitment) -> bool:
    return _status_on_open(commitment, LIVE_COMMITMENT_STATUSES)


def live() -> ColumnElement[bool]:
    return and_(Commitment.status.in_(LIVE_COMMITMENT_STATUSES), _on_open_initiative())


def is_pending(commitment: Commitment) -> bool:
    return _status_on_open(commitment, PENDING_COMMITMENT_STATUSES)


def pending() -> ColumnElement[bool]:
    return and_(Commitment.status.in_(PENDING_COMMITMENT_STATUSES), _on_open_initiative())


def is_blocked(commitment: Commitment) -> bool:
    return _status_on_open(commitment, BLOCKED_COMMITMENT_STATUSES)


def blocked() -> ColumnElement[bool]:
    return and_(Commitment.status.in_(BLOCKED_COMMITMENT_STATUSES), _on_open_initiative())


def is_overdue(commitment: Commitment, today: date) -> bool:
    return is_pending(commitment) and commitment.due < today


def overdue(today: date) -> ColumnElement[bool]:
    return and_(pending(), Commitment.due < today)


def is_due_soon(commitment: Commitment, today: date) -> bool:
    return is_pending(commitment) and today <= commitment.due <= last_soon_day(today)


def due_soon(today: date) -> ColumnElement[bool]:
    return and_(pending(), Commitment.due >= today, Commitment.due <= last_soon_day(today))


def is_due_later(commitment: Commitment, today: date) -> bool:
    return is_pending(commitment) and commitment.due > last_soon_day(today)


def due_later(today: date) -> ColumnElement[bool]:
    return and_(pending(), Commitment.due > last_soon_day(today))


# --- requests --------------------------------------------------------------------------------


def is_request(commitment: Commitment) -> bool:
    return _status_on_open(commitment, (REQUESTED,))


def request() -> ColumnElement[bool]:
    return and_(Commitment.status == REQUESTED, _on_open_initiative())


def is_unanswered(commitment: Commitment) -> bool:
    return is_request(commitment) and commitment.proposed_due is None


def unanswered() -> ColumnElement[bool]:
    return and_(request(), Commitment.proposed_due.is_(None))


def was_accepted(commitment: Commitment) -> bool:
    """A request that became a promise (whatever became of the promise since)."""
    return commitment.requested_by is not None and commitment.status not in (REQUESTED, DECLINED)


def accepted() -> ColumnElement[bool]:
    return and_(Commitment.requested_by.is_not(None), Commitment.status.not_in((REQUESTED, DECLINED)))


# --- target dates ----------------------------------------------------------------------------


def is_past_target(initiative: Initiative, today: date) -> bool:
    """An open initiative whose target date has passed: overdue on a roadmap."""
    return is_open(initiative) and initiative.target_date is not None and initiative.target_date < today


def past_target(today: date) -> ColumnElement[bool]:
    return and_(open_initiative(), Initiative.target_date.is_not(None), Initiative.target_date < today)
