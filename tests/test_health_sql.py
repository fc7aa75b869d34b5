"""The two forms of a pair's health agree: `assess` + `state_of` (one pair, in Python) and
`state_sql` (every pair, in one query), on a grid of silences, commitments, snoozes,
escalations and requests, at moments across a week and a weekend, on both databases."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import product
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.core import health
from bot.db import make_engine, make_sessionmaker, transaction
from bot.models import Commitment, Initiative, Pair
from bot.sandbox.harness import demo_settings

PARIS = ZoneInfo("Europe/Paris")
SETTINGS = demo_settings("sqlite://")
BEGINNING = datetime(2026, 2, 2, 10, tzinfo=PARIS)  # a Monday
SILENCES = (None, *(timedelta(hours=h) for h in (2, 48, 92, 96, 144, 288)))
DUES = (None, -3, 0, 4)  # a commitment between the pair, due this many days from `now`'s date
MOMENTS = (
    datetime(2026, 2, 20, 9, tzinfo=PARIS),  # Friday
    datetime(2026, 2, 21, 23, 30, tzinfo=PARIS),  # Saturday night
    datetime(2026, 2, 23, 0, 10, tzinfo=PARIS),  # Monday, just after midnight
    datetime(2026, 2, 24, 17, tzinfo=PARIS),  # Tuesday
)


def build(url: str, now: datetime) -> list[int]:
    engine = make_engine(url)
    pairs: list[Pair] = []
    with transaction(make_sessionmaker(engine)) as session:
        cases = product(SILENCES, SILENCES, DUES, (False, True), (0, 2))
        for n, (silent_a, silent_b, due, snoozed, level) in enumerate(cases):
            created = BEGINNING + timedelta(hours=n % 7)
            initiative = Initiative(
                title=f"case {n}", journey="customer", status="active", proposer="U0CMO", created_at=created, updated_at=created
            )
            pair = Pair(
                function_a="it",
                function_b="marketing",
                state="active",
                nudge_level=level,
                created_at=created,
                last_activity_a=now - silent_a if silent_a else None,
                last_activity_b=now - silent_b if silent_b else None,
                snoozed_until=now + timedelta(days=2) if snoozed else None,
            )
            initiative.pairs.append(pair)
            if due is not None:
                initiative.commitments.append(
                    Commitment(
                        from_function="marketing",
                        to_function="it",
                        owner="U0CMO",
                        what="w",
                        due=now.astimezone(PARIS).date() + timedelta(days=due),
                        status="open",
                        created_at=created,
                        updated_at=created,
                    )
                )
            session.add(initiative)
            pairs.append(pair)
        # Requests between two busy functions: their age alone decides, unless another date waits.
        for n, (age, countered) in enumerate(product(SILENCES[1:], (False, True))):
            asked = now - age
            initiative = Initiative(
                title=f"request {n}", journey="customer", status="active", proposer="U0CMO", created_at=BEGINNING, updated_at=BEGINNING
            )
            busy = now - timedelta(hours=1)
            pair = Pair(
                function_a="it", function_b="marketing", state="active", created_at=BEGINNING, last_activity_a=busy, last_activity_b=busy
            )
            initiative.pairs.append(pair)
            initiative.commitments.append(
                Commitment(
                    from_function="it",
                    to_function="marketing",
                    owner=None,
                    requested_by="U0MKT1",
                    what="w",
                    due=now.astimezone(PARIS).date() - timedelta(days=3),  # its date passed: never overdue all the same
                    status="requested",
                    proposed_due=now.astimezone(PARIS).date() + timedelta(days=9) if countered else None,
                    created_at=asked,
                    updated_at=asked,
                )
            )
            session.add(initiative)
            pairs.append(pair)
        session.flush()  # all at once: a flush for each would cost most of the test's time
        ids = [pair.id for pair in pairs]
    engine.dispose()
    return ids


@pytest.mark.parametrize("now", MOMENTS, ids=lambda m: m.strftime("%a-%H%M"))
def test_sql_and_python_decide_the_same_state(migrated_url, now):
    build(migrated_url, now)
    engine = make_engine(migrated_url)
    cut = health.cutoffs(now, SETTINGS)
    with make_sessionmaker(engine)() as session:
        in_sql = dict(session.execute(select(Pair.id, health.state_sql(cut, now))).all())
        ranks = dict(session.execute(select(Pair.id, health.rank_sql(cut, now))).all())
        in_python, titles = {}, {}
        for pair in session.scalars(select(Pair).options(selectinload(Pair.initiative).selectinload(Initiative.commitments))):
            titles[pair.id] = pair.initiative.title
            assessed = health.assess(pair, pair.initiative.commitments, now, SETTINGS)
            in_python[pair.id] = health.state_of(pair, assessed, now)
    engine.dispose()
    assert in_sql == in_python
    assert {ranks[i] for i in ranks} <= set(health.RANK.values())
    assert all(ranks[i] == health.RANK[in_python[i]] for i in ranks)
    assert set(in_python.values()) >= {health.ACTIVE, health.QUIET, health.STALLED, health.SNOOZED, health.ESCALATED}
    requests = {pair_id: state for pair_id, state in in_python.items() if titles[pair_id].startswith("request")}
    assert set(requests.values()) == {health.ACTIVE, health.STALLED}  # both ways, by the request alone


def test_silent_since_counts_back_working_days():
    from bot.core.calendar import WorkWeek

    week = WorkWeek.of(SETTINGS.nudges)
    monday = date(2026, 2, 23)
    assert week.silent_since(monday, 1) == date(2026, 2, 22)  # Sunday: Monday itself is the first
    assert week.silent_since(monday, 2) == date(2026, 2, 19)  # Thursday: Friday and Monday
    assert week.silent_since(monday, 5) == date(2026, 2, 16)
    start = datetime(2026, 2, 16, 15, tzinfo=PARIS)
    assert week.working_days_between(start, datetime(2026, 2, 23, 9, tzinfo=PARIS), PARIS) == 5
