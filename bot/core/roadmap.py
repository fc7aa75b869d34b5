"""A couple's joint roadmap: what two functions have planned together, month by month.

The roadmap of a pair of functions holds their open initiatives (both functions involved), by
target date, and the commitments between them (either way, promises still owed and requests
still asked, on open initiatives), by due date. It has one bucket for what is overdue
(`rules.is_past_target`, `rules.is_overdue`) and one for each of the next MONTHS months of the
hub's calendar, the current one first. A date already passed that is not overdue (a blocked
commitment, a request) counts in the current month; what is dated after the last month is
counted as `later`, initiatives without a target date as `undated`. Only what `visible` lets
the viewer see is read (bot.core.audience). Nothing here knows Slack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import rules
from bot.core.calendar import local_day
from bot.models import Commitment, Initiative, InitiativeFunction

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
    items: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", sum(len(m.initiatives) + len(m.commitments) for m in self.months))

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
    """The initiative involves both functions."""
    return and_(
        Initiative.functions.any(InitiativeFunction.function_key == a),
        Initiative.functions.any(InitiativeFunction.function_key == b),
    )


def build(
    session: Session, settings: Settings, now: datetime, functions: tuple[str, str], visible: ColumnElement[bool] | None = None
) -> Roadmap:
    """The roadmap of the two functions as of `now`, on the hub's calendar."""
    a, b = functions
    today = local_day(now, settings.tz)
    keys = month_keys(today)
    seen = visible if visible is not None else true()
    initiatives: dict[str, list[RoadmapInitiative]] = {}
    later = undated = 0
    query = select(Initiative).where(rules.open_initiative(), joint(a, b), seen).order_by(Initiative.target_date, Initiative.id)
    for initiative in session.scalars(query):
        if initiative.target_date is None:
            undated += 1
            continue
        overdue = rules.is_past_target(initiative, today)
        where = _bucket(initiative.target_date, overdue, keys)
        if where is None:
            later += 1
            continue
        initiatives.setdefault(where, []).append(
            RoadmapInitiative(
                initiative.id,
                initiative.title,
                initiative.target_date,
                initiative.status,
                overdue,
                initiative.hub_channel,
                initiative.hub_ts,
            )
        )
    between = or_(
        and_(Commitment.from_function == a, Commitment.to_function == b),
        and_(Commitment.from_function == b, Commitment.to_function == a),
    )
    commitments: dict[str, list[RoadmapCommitment]] = {}
    rows = session.execute(
        select(Commitment, Initiative.hub_channel, Initiative.hub_ts)
        .join(Initiative, Initiative.id == Commitment.initiative_id)
        .where(between, or_(rules.live(), rules.request()), seen)
        .order_by(Commitment.due, Commitment.id)
    )
    overdue_ids = set(session.scalars(select(Commitment.id).where(between, rules.overdue(today))))
    for commitment, hub_channel, thread_ts in rows:
        overdue = commitment.id in overdue_ids
        where = _bucket(commitment.due, overdue, keys)
        if where is None:
            later += 1
            continue
        commitments.setdefault(where, []).append(
            RoadmapCommitment(
                commitment.id,
                commitment.initiative_id,
                commitment.from_function,
                commitment.to_function,
                commitment.what,
                commitment.due,
                commitment.status,
                overdue,
                commitment.hub_channel or hub_channel,
                commitment.hub_ts,
                thread_ts,
            )
        )
    months = tuple(Month(key, tuple(initiatives.get(key, ())), tuple(commitments.get(key, ()))) for key in [OVERDUE, *keys])
    return Roadmap(functions, today, months, later, undated)
