"""The weekly digest and the function × function matrix (also `cdo-hub report pairs`).

Every pair of configured functions gets a row: their joint initiatives, the commitments
between them (either way), when they last met, and a state — the worst live state of their
open joint initiatives, or `never-met` when they have neither started an initiative together
nor met within `never_met_days`. States are assessed live (health.assess), so a digest or a
report "as of" another time says what was true then. Which commitments are open, overdue and
due soon is decided by bot.core.rules, on the hub's calendar day.

One bad row never stops a digest, a report or the Home tab: a pair that cannot be assessed is
logged with its ID and counted without a state, as if its initiative were closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import combinations
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, contains_eager

from bot.config import Settings
from bot.core import health, rules
from bot.core.calendar import local_day
from bot.core.listing import Listed
from bot.core.pairs import ordered_pair
from bot.models import Commitment, Initiative, Pair

log = logging.getLogger(__name__)

NEVER_MET = "never-met"
# Worst first: the state a pair of functions shows is the worst of its joint initiatives.
SEVERITY = (health.ESCALATED, health.STALLED, health.SNOOZED, health.QUIET, health.ACTIVE)
SHOWN = 10  # items listed per section of the digest; the rest are counted


@dataclass(frozen=True)
class PairRow:
    functions: tuple[str, str]
    initiatives: int
    open_commitments: int
    overdue_commitments: int
    done_commitments: int
    last_joint_activity_at: datetime | None
    state: str

    def as_report(self) -> dict[str, Any]:
        return {
            "functions": list(self.functions),
            "initiatives": self.initiatives,
            "open_commitments": self.open_commitments,
            "overdue_commitments": self.overdue_commitments,
            "done_commitments": self.done_commitments,
            "last_joint_activity_at": self.last_joint_activity_at.isoformat() if self.last_joint_activity_at else None,
            "state": self.state,
        }


@dataclass(frozen=True)
class StalledPair:
    initiative_id: int
    title: str
    functions: tuple[str, str]
    state: str
    days_silent: int
    overdue: int


@dataclass(frozen=True)
class CommitmentLine:
    id: int
    initiative_id: int
    title: str
    from_function: str
    to_function: str
    owner: str
    what: str
    due: date


@dataclass(frozen=True)
class FirstStep:
    """Two functions that never meet, and what they could start with (from configuration)."""

    functions: tuple[str, str]
    leads: tuple[str | None, str | None]
    journey: str | None  # a journey both are tied to
    keywords: tuple[str | None, str | None]


@dataclass(frozen=True)
class Digest:
    at: datetime
    today: date
    week: str  # ISO week in the hub's time zone, like 2026-W11
    by_status: dict[str, int]
    stalled: Listed  # of StalledPair, worst first
    snoozed: int
    overdue: Listed  # of CommitmentLine, oldest first
    due_soon: Listed
    matrix: tuple[PairRow, ...]
    never_met: tuple[FirstStep, ...]


def iso_week(at: datetime, settings: Settings) -> str:
    year, week, _ = local_day(at, settings.tz).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class _Live:
    pair: Pair
    initiative: Initiative
    state: str | None = None  # open initiatives only
    assessed: health.Health | None = None


def _live_pairs(session: Session, settings: Settings, now: datetime) -> list[_Live]:
    rows = session.execute(select(Pair, Initiative).join(Initiative, Initiative.id == Pair.initiative_id))
    live = [_Live(pair, initiative) for pair, initiative in rows]
    commitments: dict[int, list[Commitment]] = {}
    if any(rules.is_open(item.initiative) for item in live):
        # With their initiatives loaded, which the rules read.
        query = select(Commitment).join(Commitment.initiative).where(rules.open_initiative()).options(contains_eager(Commitment.initiative))
        for commitment in session.scalars(query):
            commitments.setdefault(commitment.initiative_id, []).append(commitment)
    for item in live:
        if rules.is_open(item.initiative):
            try:
                item.assessed = health.assess(item.pair, commitments.get(item.initiative.id, ()), now, settings)
                item.state = health.state_of(item.pair, item.assessed, now)
            except Exception:  # this pair, not the digest
                log.exception("pair %s of initiative %s could not be assessed; shown without a state", item.pair.id, item.initiative.id)
                item.assessed = item.state = None
    return live


def _rows(session: Session, settings: Settings, now: datetime, live: list[_Live]) -> tuple[PairRow, ...]:
    today = local_day(now, settings.tz)
    window = now - timedelta(days=settings.digest.never_met_days)
    counts: dict[tuple[str, str], list[int]] = {}
    for a, b, open_, late, done in session.execute(
        select(
            Commitment.from_function,
            Commitment.to_function,
            func.sum(case((rules.live(), 1), else_=0)),
            func.sum(case((rules.overdue(today), 1), else_=0)),
            func.sum(case((Commitment.status == "done", 1), else_=0)),
        ).group_by(Commitment.from_function, Commitment.to_function)
    ):
        total = counts.setdefault(ordered_pair(a, b), [0, 0, 0])
        for i, value in enumerate((open_, late, done)):
            total[i] += int(value or 0)
    by_pair: dict[tuple[str, str], list[_Live]] = {}
    for item in live:
        by_pair.setdefault(ordered_pair(*item.pair.functions), []).append(item)
    rows = []
    for a, b in combinations(settings.functions, 2):
        key = ordered_pair(a, b)
        items = by_pair.get(key, [])
        met = max((item.pair.last_joint_activity_at for item in items if item.pair.last_joint_activity_at), default=None)
        started = max((item.initiative.created_at for item in items), default=None)
        states = [item.state for item in items if item.state]
        if not (met and met >= window) and not (started and started >= window):
            state = NEVER_MET
        elif states:
            state = min(states, key=SEVERITY.index)
        else:
            state = health.QUIET  # they met lately, but have no open initiative together
        open_, late, done = counts.get(key, [0, 0, 0])
        rows.append(PairRow((a, b), len(items), open_, late, done, met, state))
    return tuple(rows)


def pair_rows(session: Session, settings: Settings, now: datetime) -> tuple[PairRow, ...]:
    return _rows(session, settings, now, _live_pairs(session, settings, now))


def pairs_report(session: Session, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """`cdo-hub report pairs`."""
    return [row.as_report() for row in pair_rows(session, settings, now)]


def first_step(settings: Settings, functions: tuple[str, str]) -> FirstStep:
    a, b = (settings.functions[key] for key in functions)
    common = [journey for journey in ("customer", "employee") if _tied(journey, a.journeys) and _tied(journey, b.journeys)]
    return FirstStep(
        functions=functions,
        leads=(a.leads[0] if a.leads else None, b.leads[0] if b.leads else None),
        journey=common[0] if common else None,
        keywords=(a.keywords[0] if a.keywords else None, b.keywords[0] if b.keywords else None),
    )


def _tied(journey: str, journeys: tuple[str, ...]) -> bool:
    return journey in journeys or "both" in journeys


def _commitments(session: Session, rule: ColumnElement[bool]) -> Listed:
    base = select(Commitment, Initiative.title).join(Initiative, Initiative.id == Commitment.initiative_id).where(rule)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    items = tuple(
        CommitmentLine(c.id, c.initiative_id, title, c.from_function, c.to_function, c.owner, c.what, c.due)
        for c, title in session.execute(base.order_by(Commitment.due, Commitment.id).limit(SHOWN))
    )
    return Listed(items, total)


def build(session: Session, settings: Settings, now: datetime) -> Digest:
    today = local_day(now, settings.tz)
    by_status = dict.fromkeys(rules.INITIATIVE_STATUSES, 0)
    for status, count in session.execute(select(Initiative.status, func.count()).group_by(Initiative.status)):
        by_status[status] = count
    live = _live_pairs(session, settings, now)
    stalled = [
        StalledPair(
            item.initiative.id,
            item.initiative.title,
            item.pair.functions,
            item.state,
            item.assessed.days_silent,
            len(item.assessed.overdue),
        )
        for item in live
        if item.state in (health.ESCALATED, health.STALLED) and item.assessed is not None
    ]
    stalled.sort(key=lambda s: (SEVERITY.index(s.state), -s.overdue, -s.days_silent, s.initiative_id))
    matrix = _rows(session, settings, now, live)
    return Digest(
        at=now,
        today=today,
        week=iso_week(now, settings),
        by_status=by_status,
        stalled=Listed(tuple(stalled[:SHOWN]), len(stalled)),
        snoozed=sum(1 for item in live if item.state == health.SNOOZED),
        overdue=_commitments(session, rules.overdue(today)),
        due_soon=_commitments(session, rules.due_soon(today)),
        matrix=matrix,
        never_met=tuple(first_step(settings, row.functions) for row in matrix if row.state == NEVER_MET),
    )
