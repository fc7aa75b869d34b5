"""How a pair of functions is doing on one initiative, from its activity and commitments.

A pair is *stalled* when one of its functions (or both) has been silent on the initiative for
`stall_after_days` working days, when a commitment between them is overdue
(`rules.is_overdue`), or when one of them has left a request of the other unanswered
(`rules.is_unanswered`) for `stall_after_days` working days; *quiet* from half that silence
on; else *active*. A request is never overdue: it counts against the function asked only by
going unanswered. A function that never acted is silent since the pair began. Days, and the
day a commitment is overdue from, are of the hub's calendar: a pair has no time zone of its
own. A commitment that could only be late after the calendar's END (due 9999-12-31, typed into
the database) is never late: it changes nothing in our lifetime.

The stored `Pair.state` adds what only the nudges know: `snoozed` and `escalated`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from bot.config import Settings
from bot.core import rules
from bot.core.calendar import END, WorkWeek, local_day, local_moment
from bot.models import Commitment, Pair

ACTIVE, QUIET, STALLED, SNOOZED, ESCALATED = "active", "quiet", "stalled", "snoozed", "escalated"


@dataclass(frozen=True)
class Overdue:
    id: int
    from_function: str
    to_function: str
    owner: str | None  # None: the function's, its owner forgotten
    what: str
    due: date
    days_late: int


@dataclass(frozen=True)
class Unanswered:
    """A request of one function to the other that `from_function` has not answered."""

    id: int
    from_function: str  # the function asked
    to_function: str
    asked_by: str
    what: str
    due: date
    days_waiting: int  # working days


@dataclass(frozen=True)
class Health:
    functions: tuple[str, str]
    silent_days: tuple[int, int]  # working days, in the order of `functions`
    never_acted: tuple[bool, bool]
    overdue: tuple[Overdue, ...]
    stalled: bool
    quiet: bool
    changes_at: datetime | None  # when time alone will change this assessment
    unanswered: tuple[Unanswered, ...] = ()  # for `stall_after_days` working days or more

    @property
    def state(self) -> str:
        return STALLED if self.stalled else QUIET if self.quiet else ACTIVE

    @property
    def days_silent(self) -> int:
        return max(self.silent_days)


def quiet_after(settings: Settings) -> int:
    return max(1, (settings.nudges.stall_after_days + 1) // 2)


# The commitments that can make a pair stall (overdue promises, unanswered requests); others
# never change a pair's health.
CAN_STALL = (*rules.PENDING_COMMITMENT_STATUSES, rules.REQUESTED)


def between(pair: Pair, commitments: Iterable[Commitment]) -> list[Commitment]:
    """The commitments of the initiative that link the pair's two functions, either way."""
    ends = set(pair.functions)
    return [c for c in commitments if c.from_function != c.to_function and {c.from_function, c.to_function} == ends]


def assess(pair: Pair, commitments: Iterable[Commitment], now: datetime, settings: Settings) -> Health:
    week, zone = WorkWeek.of(settings.nudges), settings.tz
    stall, quiet = settings.nudges.stall_after_days, quiet_after(settings)
    today = local_day(now, zone)
    since = [pair.last_activity_a or pair.created_at, pair.last_activity_b or pair.created_at]
    silent = tuple(week.working_days_between(moment, now, zone) for moment in since)
    later: list[datetime] = []
    for moment, days in zip(since, silent, strict=True):
        for threshold in (quiet, stall):
            reached = week.add_working_days(moment, threshold, zone) if days < threshold else None
            if reached is not None:
                later.append(reached)
    overdue, unanswered = [], []
    for commitment in between(pair, commitments):
        if rules.is_overdue(commitment, today):
            overdue.append(
                Overdue(
                    commitment.id,
                    commitment.from_function,
                    commitment.to_function,
                    commitment.owner or "",
                    commitment.what,
                    commitment.due,
                    (today - commitment.due).days,
                )
            )
        elif rules.is_pending(commitment) and commitment.due < END:
            later.append(local_moment(rules.first_late_day(commitment.due), time(0), zone))
        if rules.is_unanswered(commitment):
            waiting = week.working_days_between(commitment.created_at, now, zone)
            if waiting >= stall:
                unanswered.append(
                    Unanswered(
                        commitment.id,
                        commitment.from_function,
                        commitment.to_function,
                        commitment.requested_by or "",
                        commitment.what,
                        commitment.due,
                        waiting,
                    )
                )
            elif (reached := week.add_working_days(commitment.created_at, stall, zone)) is not None:
                later.append(reached)
    overdue.sort(key=lambda item: (item.due, item.id))
    unanswered.sort(key=lambda item: (-item.days_waiting, item.id))
    return Health(
        functions=pair.functions,
        silent_days=(silent[0], silent[1]),
        never_acted=(pair.last_activity_a is None, pair.last_activity_b is None),
        overdue=tuple(overdue),
        stalled=max(silent) >= stall or bool(overdue) or bool(unanswered),
        quiet=max(silent) >= quiet,
        changes_at=min((moment for moment in later if moment > now), default=None),
        unanswered=tuple(unanswered),
    )


def state_of(pair: Pair, health: Health, now: datetime) -> str:
    """The state to show: snoozed and escalated are kinds of stalled."""
    if not health.stalled:
        return health.state
    if pair.snoozed_until is not None and pair.snoozed_until > now:
        return SNOOZED
    if pair.nudge_level >= 2:
        return ESCALATED
    return STALLED


# --- the same assessment in SQL, for views over every pair ------------------------------------
# `assess` and `state_of` above decide one pair at a time; these expressions decide the same for
# every pair in one query (the digest, the matrix, `/cdo pairs`), so their cost follows what is
# shown, not the number of pairs. tests/test_health_sql.py holds the two forms to agreement.

RANK = {ESCALATED: 0, STALLED: 1, SNOOZED: 2, QUIET: 3, ACTIVE: 4}  # worst first


@dataclass(frozen=True)
class Cutoffs:
    """A side of a pair silent since before `quiet_before` is quiet, before `stall_before` stalled."""

    today: date
    quiet_before: datetime
    stall_before: datetime


def cutoffs(now: datetime, settings: Settings) -> Cutoffs:
    week, zone = WorkWeek.of(settings.nudges), settings.tz
    today = local_day(now, zone)

    def before(count: int) -> datetime:
        return local_moment(week.silent_since(today, count) + timedelta(days=1), time(0), zone)

    return Cutoffs(today, before(quiet_after(settings)), before(settings.nudges.stall_after_days))


def _longest_silence() -> ColumnElement[datetime]:
    a = func.coalesce(Pair.last_activity_a, Pair.created_at)
    b = func.coalesce(Pair.last_activity_b, Pair.created_at)
    return case((a < b, a), else_=b)


def _pairs_with(commitment: ColumnElement[bool]) -> ColumnElement[bool]:
    """The pair has, on its initiative and between its two functions, a commitment for which
    `commitment` holds. Asked as "is the pair among those" (a subquery that does not depend on
    the pair), the database finds those few pairs once instead of searching every pair's
    commitments: what keeps pair states cheap at tens of thousands of pairs."""
    other = aliased(Pair)
    between = or_(
        and_(Commitment.from_function == other.function_a, Commitment.to_function == other.function_b),
        and_(Commitment.from_function == other.function_b, Commitment.to_function == other.function_a),
    )
    found = select(other.id).join(Commitment, and_(Commitment.initiative_id == other.initiative_id, between)).where(commitment)
    return Pair.id.in_(found)


def overdue_between(today: date) -> ColumnElement[bool]:
    """A commitment between the pair's two functions, on its initiative, is overdue."""
    return _pairs_with(and_(Commitment.status.in_(rules.PENDING_COMMITMENT_STATUSES), Commitment.due < today, Commitment.due < END))


def unanswered_between(cut: Cutoffs) -> ColumnElement[bool]:
    """A request between the pair's two functions has waited for its answer since before
    `stall_before` (`stall_after_days` working days or more)."""
    return _pairs_with(
        and_(Commitment.status == rules.REQUESTED, Commitment.proposed_due.is_(None), Commitment.created_at < cut.stall_before)
    )


def stalled_sql(cut: Cutoffs) -> ColumnElement[bool]:
    return or_(_longest_silence() < cut.stall_before, overdue_between(cut.today), unanswered_between(cut))


def state_sql(cut: Cutoffs, now: datetime) -> ColumnElement[str]:
    """`state_of(pair, assess(pair, ...))` for a pair of an open initiative."""
    return _by_state(cut, now, {name: literal(name) for name in RANK})


def rank_sql(cut: Cutoffs, now: datetime) -> ColumnElement[int]:
    """The state as its RANK, so that the worst of several is their MIN."""
    return _by_state(cut, now, {name: literal(rank) for name, rank in RANK.items()})


def _by_state(cut: Cutoffs, now: datetime, value: dict[str, ColumnElement[Any]]) -> ColumnElement[Any]:
    """`value` of the pair's state. Whether the pair is stalled (its costliest part: subqueries
    on commitments) appears once, so that the database evaluates it once a pair."""
    return case(
        (
            stalled_sql(cut),
            case(
                (Pair.snoozed_until > now, value[SNOOZED]),
                (Pair.nudge_level >= 2, value[ESCALATED]),
                else_=value[STALLED],
            ),
        ),
        (_longest_silence() < cut.quiet_before, value[QUIET]),
        else_=value[ACTIVE],
    )
