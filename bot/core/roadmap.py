"""A couple's joint roadmap: what two functions have planned together, month by month.

The roadmap of a pair of functions holds their open initiatives (both functions involved), by
target date, and the commitments between them (either way, promises still owed and requests
still asked, on open initiatives), by due date. It has one bucket for what is overdue
(`rules.is_past_target`, `rules.is_overdue`) and one for each of the next MONTHS months of the
hub's calendar, the current one first. A date already passed that is not overdue (a blocked
commitment, a request) counts in the current month; what is dated after the last month is
counted as `later`, initiatives without a target date as `undated`. Only what `visible` lets
the viewer see is read (bot.core.audience), and a shortened roadmap (the App Home's) reads only
its first items while counting all of them in SQL. Nothing here knows Slack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, true
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import rules
from bot.core.calendar import local_day
from bot.core.pairs import ordered_pair
from bot.models import Commitment, Initiative, Pair

MONTHS = 6
OVERDUE = "overdue"


@dataclass(frozen=True)
class RoadmapInitiative:
    id: int
    title: str
    target_date: date
    status: str
    overdue: bool
    hub_channel: str | None
    hub_ts: str | None

    def as_report(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "target_date": self.target_date.isoformat(), "status": self.status}


@dataclass(frozen=True)
class RoadmapCommitment:
    id: int
    initiative_id: int
    from_function: str
    to_function: str
    what: str
    due: date
    status: str
    overdue: bool
    hub_channel: str | None  # its message in the initiative's hub thread
    hub_ts: str | None
    thread_ts: str | None  # the initiative's hub thread

    def as_report(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "initiative_id": self.initiative_id,
            "from": self.from_function,
            "to": self.to_function,
            "what": self.what,
            "due": self.due.isoformat(),
            "status": self.status,
        }


@dataclass(frozen=True)
class Month:
    key: str  # "overdue", or "YYYY-MM"
    initiatives: tuple[RoadmapInitiative, ...] = ()
    commitments: tuple[RoadmapCommitment, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.initiatives or self.commitments)

    def as_report(self) -> dict[str, Any]:
        return {
            "month": self.key,
            "initiatives": [item.as_report() for item in self.initiatives],
            "commitments": [item.as_report() for item in self.commitments],
        }


@dataclass(frozen=True)
class Roadmap:
    functions: tuple[str, str]
    today: date
    months: tuple[Month, ...]  # overdue first, then MONTHS months from the current one
    later: int = 0  # dated after the last month
    undated: int = 0  # open joint initiatives without a target date
    unread: int = 0  # overdue or within the months, counted but not read (a shortened roadmap)
    items: int = field(init=False, default=0)  # overdue or within the months, read or not

    def __post_init__(self) -> None:
        read = sum(len(m.initiatives) + len(m.commitments) for m in self.months)
        object.__setattr__(self, "items", read + self.unread)

    def as_report(self) -> list[dict[str, Any]]:
        return [month.as_report() for month in self.months]


def month_keys(today: date, count: int = MONTHS) -> list[str]:
    keys = []
    year, month = today.year, today.month
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def _bucket(day: date, overdue: bool, keys: list[str]) -> str | None:
    """Where an item dated `day` goes: overdue, one of the months, or None (later)."""
    if overdue:
        return OVERDUE
    key = f"{day.year:04d}-{day.month:02d}"
    if key < keys[0]:
        return keys[0]  # passed, yet not overdue (blocked, a request): this month's business
    return key if key <= keys[-1] else None


def joint(a: str, b: str) -> ColumnElement[bool]:
    """The pair of the two functions, on an initiative that involves both: each initiative has
    one pair for each two of its functions, made with it, found through the pairs' index."""
    first, second = ordered_pair(a, b)
    return and_(Pair.function_a == first, Pair.function_b == second)


def _joint_initiatives(*columns: Any) -> Select[Any]:
    """`columns` of the initiatives of a pair that `joint` names, reached from the pairs."""
    return select(*columns).select_from(Pair).join(Initiative, Initiative.id == Pair.initiative_id)


def last_day(key: str) -> date:
    """The last day of the month `key` ("YYYY-MM")."""
    year, month = int(key[:4]), int(key[5:])
    first_of_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return first_of_next - timedelta(days=1)


def build(
    session: Session,
    settings: Settings,
    now: datetime,
    functions: tuple[str, str],
    visible: ColumnElement[bool] | None = None,
    *,
    limit: int | None = None,
) -> Roadmap:
    """The roadmap of the two functions as of `now`, on the hub's calendar. With `limit`, only
    the first `limit` initiatives and commitments by date are read, overdue first (what a
    shortened roadmap shows), while every item is still counted in SQL: `items`, `later` and
    `undated` are the same either way."""
    return build_many(session, settings, now, [functions], visible, limit=limit)[0]


def build_many(
    session: Session,
    settings: Settings,
    now: datetime,
    couples: Sequence[tuple[str, str]],
    visible: ColumnElement[bool] | None = None,
    *,
    limit: int | None = None,
) -> list[Roadmap]:
    """The roadmaps of several couples (`build`'s, in the order given), read together: six
    statements whatever their number, each couple's first `limit` items numbered in SQL."""
    if not couples:
        return []
    today = local_day(now, settings.tz)
    keys = month_keys(today)
    end = last_day(keys[-1])
    seen = visible if visible is not None else true()
    wanted = or_(*(joint(a, b) for a, b in dict.fromkeys(ordered_pair(a, b) for a, b in couples)))
    couple = (Pair.function_a, Pair.function_b)
    found = {ordered_pair(a, b): _Found() for a, b in couples}

    # Initiatives: overdue once their target date has passed (they are open), else by date.
    joint_open = and_(wanted, rules.open_initiative(), seen)
    late_initiative = rules.past_target(today)
    coming_initiative = and_(Initiative.target_date >= today, Initiative.target_date <= end)
    counts = session.execute(
        _joint_initiatives(
            *couple,
            func.count().filter(late_initiative),
            func.count().filter(coming_initiative),
            func.count().filter(Initiative.target_date > end),
            func.count().filter(Initiative.target_date.is_(None)),
        )
        .where(joint_open)
        .group_by(*couple)
    )
    for a, b, late, coming, later, undated in counts:
        found[(a, b)].counted += int(late or 0) + int(coming or 0)
        found[(a, b)].later += int(later or 0)
        found[(a, b)].undated += int(undated or 0)
    for overdue, condition in ((True, late_initiative), (False, coming_initiative)):
        columns = (Initiative.id, Initiative.title, Initiative.target_date, Initiative.status, Initiative.hub_channel, Initiative.hub_ts)
        query = _joint_initiatives(*couple, *columns).where(joint_open, condition)
        for row in session.execute(_first(query, couple, (Initiative.target_date, Initiative.id), limit)):
            where = _bucket(row.target_date, overdue, keys)
            assert where is not None  # the condition keeps the dates within the months
            found[(row.function_a, row.function_b)].initiatives.setdefault(where, []).append(
                RoadmapInitiative(row.id, row.title, row.target_date, row.status, overdue, row.hub_channel, row.hub_ts)
            )

    # Commitments between them, either way: promises still owed and requests still asked.
    between = and_(
        or_(
            and_(Commitment.from_function == Pair.function_a, Commitment.to_function == Pair.function_b),
            and_(Commitment.from_function == Pair.function_b, Commitment.to_function == Pair.function_a),
        ),
        or_(rules.live(), rules.request()),
        seen,
    )
    late_commitment = rules.overdue(today)
    coming_commitment = and_(not_(late_commitment), Commitment.due <= end)

    def joint_commitments(*columns: Any) -> Select[Any]:
        return (
            select(*couple, *columns)
            .select_from(Pair)
            .join(Initiative, Initiative.id == Pair.initiative_id)
            .join(Commitment, Commitment.initiative_id == Initiative.id)
            .where(wanted, between)
        )

    counts = session.execute(
        joint_commitments(
            func.count().filter(late_commitment),
            func.count().filter(coming_commitment),
            func.count().filter(and_(not_(late_commitment), Commitment.due > end)),
        ).group_by(*couple)
    )
    for a, b, late, coming, later in counts:
        found[(a, b)].counted += int(late or 0) + int(coming or 0)
        found[(a, b)].later += int(later or 0)
    for overdue, condition in ((True, late_commitment), (False, coming_commitment)):
        query = joint_commitments(
            Commitment.id,
            Commitment.initiative_id,
            Commitment.from_function,
            Commitment.to_function,
            Commitment.what,
            Commitment.due,
            Commitment.status,
            Commitment.hub_channel,
            Commitment.hub_ts,
            Initiative.hub_channel.label("thread_channel"),
            Initiative.hub_ts.label("thread_ts"),
        ).where(condition)
        for row in session.execute(_first(query, couple, (Commitment.due, Commitment.id), limit)):
            where = _bucket(row.due, overdue, keys)
            assert where is not None  # the condition keeps the dates within the months
            found[(row.function_a, row.function_b)].commitments.setdefault(where, []).append(
                RoadmapCommitment(
                    row.id,
                    row.initiative_id,
                    row.from_function,
                    row.to_function,
                    row.what,
                    row.due,
                    row.status,
                    overdue,
                    row.hub_channel or row.thread_channel,
                    row.hub_ts,
                    row.thread_ts,
                )
            )
    return [found[ordered_pair(a, b)].roadmap((a, b), today, keys) for a, b in couples]


@dataclass
class _Found:
    """What was read of one couple's roadmap so far."""

    initiatives: dict[str, list[RoadmapInitiative]] = field(default_factory=dict)
    commitments: dict[str, list[RoadmapCommitment]] = field(default_factory=dict)
    counted: int = 0  # overdue or within the months, read or not
    later: int = 0
    undated: int = 0

    def roadmap(self, functions: tuple[str, str], today: date, keys: list[str]) -> Roadmap:
        months = tuple(Month(key, tuple(self.initiatives.get(key, ())), tuple(self.commitments.get(key, ()))) for key in [OVERDUE, *keys])
        read = sum(len(month.initiatives) + len(month.commitments) for month in months)
        return Roadmap(functions, today, months, self.later, self.undated, unread=self.counted - read)


def _first(query: Select[Any], couple: tuple[Any, ...], order: tuple[Any, ...], limit: int | None) -> Select[Any]:
    """The rows of `query` in `order`, each couple's first `limit` only (all without a limit)."""
    if limit is None:
        return query.order_by(*couple, *order)
    numbered = query.add_columns(func.row_number().over(partition_by=couple, order_by=order).label("place")).subquery()
    return select(numbered).where(numbered.c.place <= limit).order_by(*(numbered.c[column.key] for column in couple), numbered.c.place)
