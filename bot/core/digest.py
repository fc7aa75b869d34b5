"""The weekly digest and the function × function matrix (also `cdo-hub report pairs`).

Every pair of configured functions gets a row: their joint initiatives, the commitments
between them (either way), when they last met, and a state — the worst live state of their
open joint initiatives, or `never-met` when they have neither started an initiative together
nor met within `never_met_days`. States are assessed live, in SQL over all pairs at once
(`health.state_sql`, the same rule as `health.assess`), so a digest or a report "as of" another
time says what was true then, and its cost does not grow with one Python object per pair. Which commitments are open, overdue and
due soon is decided by bot.core.rules, on the hub's calendar day.

One bad row never stops a digest: a stalled pair that cannot be assessed is logged with its ID
and left out of the list (it is still counted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import combinations
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import health, obstacles, rules
from bot.core.calendar import local_day
from bot.core.listing import Listed
from bot.core.pairs import ordered_pair
from bot.models import Commitment, Initiative, Pair

if TYPE_CHECKING:
    from bot.core.introductions import Week

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
    # Requests between them, either way: waiting for an answer, accepted (promises now), declined.
    requests_waiting: int = 0
    requests_accepted: int = 0
    requests_declined: int = 0

    def as_report(self) -> dict[str, Any]:
        return {
            "functions": list(self.functions),
            "initiatives": self.initiatives,
            "open_commitments": self.open_commitments,
            "overdue_commitments": self.overdue_commitments,
            "done_commitments": self.done_commitments,
            "last_joint_activity_at": self.last_joint_activity_at.isoformat() if self.last_joint_activity_at else None,
            "state": self.state,
            "requests_waiting": self.requests_waiting,
            "requests_accepted": self.requests_accepted,
            "requests_declined": self.requests_declined,
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
    owner: str | None
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
    introductions: Week | None = None  # made, answered "Not now", became initiatives
    obstacles: tuple[obstacles.ObstacleRow, ...] = ()  # every configured obstacle, ranked


def iso_week(at: datetime, settings: Settings) -> str:
    year, week, _ = local_day(at, settings.tz).isocalendar()
    return f"{year}-W{week:02d}"


def pair_rows(session: Session, settings: Settings, now: datetime) -> tuple[PairRow, ...]:
    """One row per pair of configured functions, from two grouped queries (pairs, commitments)."""
    today = local_day(now, settings.tz)
    window = now - timedelta(days=settings.digest.never_met_days)
    cut = health.cutoffs(now, settings)
    counts: dict[tuple[str, str], list[int]] = {}
    for a, b, *values in session.execute(
        select(
            Commitment.from_function,
            Commitment.to_function,
            func.sum(case((rules.live(), 1), else_=0)),
            func.sum(case((rules.overdue(today), 1), else_=0)),
            func.sum(case((Commitment.status == "done", 1), else_=0)),
            func.sum(case((rules.request(), 1), else_=0)),
            func.sum(case((rules.accepted(), 1), else_=0)),
            func.sum(case((Commitment.status == rules.DECLINED, 1), else_=0)),
        ).group_by(Commitment.from_function, Commitment.to_function)
    ):
        total = counts.setdefault(ordered_pair(a, b), [0] * 6)
        for i, value in enumerate(values):
            total[i] += int(value or 0)
    worst = func.min(case((rules.open_initiative(), health.rank_sql(cut, now)), else_=None))
    grouped = {
        (a, b): (int(count), met, started, rank)
        for a, b, count, met, started, rank in session.execute(
            select(
                Pair.function_a,
                Pair.function_b,
                func.count(Pair.id),
                func.max(Pair.last_joint_activity_at),
                func.max(Initiative.created_at),
                worst,
            )
            .join(Initiative, Initiative.id == Pair.initiative_id)
            .group_by(Pair.function_a, Pair.function_b)
        )
    }
    by_rank = {rank: name for name, rank in health.RANK.items()}
    rows = []
    for a, b in combinations(settings.functions, 2):
        key = ordered_pair(a, b)
        count, met, started, rank = grouped.get(key, (0, None, None, None))
        met, started = _aware(met), _aware(started)
        if not (met and met >= window) and not (started and started >= window):
            state = NEVER_MET
        elif rank is not None:
            state = by_rank[int(rank)]
        else:
            state = health.QUIET  # they met lately, but have no open initiative together
        open_, late, done, waiting, accepted, declined = counts.get(key, [0] * 6)
        rows.append(PairRow((a, b), count, open_, late, done, met, state, waiting, accepted, declined))
    return tuple(rows)


def _aware(moment: object) -> datetime | None:
    """An aggregate loses the column's type: SQLite gives back naive UTC, or even text."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _stalled(session: Session, settings: Settings, now: datetime) -> tuple[Listed, int]:
    """The worst stalled pairs (assessed one by one, for their days) and how many are snoozed."""
    cut = health.cutoffs(now, settings)
    state = health.state_sql(cut, now)
    rank = health.rank_sql(cut, now)
    troubled = and_(rules.open_initiative(), state.in_((health.ESCALATED, health.STALLED)))
    # Both counts in one pass over the open pairs: the state is the costly part, once per pair.
    total, snoozed = session.execute(
        select(func.count().filter(state.in_((health.ESCALATED, health.STALLED))), func.count().filter(state == health.SNOOZED))
        .select_from(Pair)
        .join(Initiative, Initiative.id == Pair.initiative_id)
        .where(rules.open_initiative())
    ).one()
    # Worst first: the state, then whether a commitment between them is late, then the longest
    # silence; the few read are then ordered exactly by their number of late commitments.
    late = case((health.overdue_between(cut.today), 0), else_=1)
    silence = func.coalesce(Pair.last_activity_a, Pair.created_at)
    query = (
        select(Pair, Initiative)
        .join(Initiative, Initiative.id == Pair.initiative_id)
        .where(troubled)
        .order_by(rank, late, silence, Pair.initiative_id)
        .limit(SHOWN * 3)  # a little more than shown: the exact order needs the days of each
    )
    items = []
    for pair, initiative in session.execute(query):
        commitments = session.scalars(select(Commitment).where(Commitment.initiative_id == initiative.id)).all()
        try:
            assessed = health.assess(pair, commitments, now, settings)
        except Exception:  # this pair, not the digest
            log.exception("pair %s of initiative %s could not be assessed; left out of the digest", pair.id, initiative.id)
            continue
        shown_state = health.state_of(pair, assessed, now)
        if shown_state in (health.ESCALATED, health.STALLED):
            items.append(
                StalledPair(initiative.id, initiative.title, pair.functions, shown_state, assessed.days_silent, len(assessed.overdue))
            )
    items.sort(key=lambda s: (SEVERITY.index(s.state), -s.overdue, -s.days_silent, s.initiative_id))
    return Listed(tuple(items[:SHOWN]), int(total)), int(snoozed)


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
        CommitmentLine(c.id, c.initiative_id, title, c.from_function, c.to_function, c.owner or "", c.what, c.due)
        for c, title in session.execute(base.order_by(Commitment.due, Commitment.id).limit(SHOWN))
    )
    return Listed(items, total)


def build(session: Session, settings: Settings, now: datetime) -> Digest:
    today = local_day(now, settings.tz)
    by_status = dict.fromkeys(rules.INITIATIVE_STATUSES, 0)
    for status, count in session.execute(select(Initiative.status, func.count()).group_by(Initiative.status)):
        by_status[status] = count
    stalled, snoozed = _stalled(session, settings, now)
    matrix = pair_rows(session, settings, now)
    return Digest(
        at=now,
        today=today,
        week=iso_week(now, settings),
        by_status=by_status,
        stalled=stalled,
        snoozed=snoozed,
        overdue=_commitments(session, rules.overdue(today)),
        due_soon=_commitments(session, rules.due_soon(today)),
        matrix=matrix,
        never_met=tuple(first_step(settings, row.functions) for row in matrix if row.state == NEVER_MET),
        introductions=_introductions_week(session, now),
        obstacles=tuple(obstacles.ledger(session, settings)),
    )


def _introductions_week(session: Session, now: datetime) -> Week:
    from bot.core import introductions  # it plans from this module's pair rows

    return introductions.week(session, now)
