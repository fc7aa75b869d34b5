"""The shared rules (bot.core.rules): what each one means, on a table of cases, that its
predicate and its SQL expression agree on every combination, and that the views built on
them (App Home, digest, pair health, reports) agree with each other, on SQLite and Postgres."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import product

import pytest
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import selectinload

from bot.core import digest, health, rules
from bot.core import home as core_home
from bot.db import make_engine, make_sessionmaker, transaction
from bot.models import Commitment, Initiative, Pair
from bot.reports import REPORTS
from bot.sandbox.harness import demo_settings

TODAY = date(2030, 3, 14)
NOW = datetime(2030, 3, 14, 11, 0, tzinfo=UTC)  # noon in Paris, the hub's zone: the same day
# Due dates around the edges: long late, late by a day, today, the last and first day after "soon".
OFFSETS = (-30, -1, 0, 1, rules.DUE_SOON_DAYS - 1, rules.DUE_SOON_DAYS, 60)

Predicate = Callable[[Commitment], bool]
Expression = Callable[[], ColumnElement[bool]]
COMMITMENT_RULES: dict[str, tuple[Predicate, Expression]] = {
    "live": (rules.is_live, rules.live),
    "pending": (rules.is_pending, rules.pending),
    "blocked": (rules.is_blocked, rules.blocked),
    "overdue": (lambda c: rules.is_overdue(c, TODAY), lambda: rules.overdue(TODAY)),
    "due soon": (lambda c: rules.is_due_soon(c, TODAY), lambda: rules.due_soon(TODAY)),
    "due later": (lambda c: rules.is_due_later(c, TODAY), lambda: rules.due_later(TODAY)),
    "request": (rules.is_request, rules.request),
    "unanswered": (rules.is_unanswered, rules.unanswered),
    "accepted": (rules.was_accepted, rules.accepted),
}
ASKED = {"requested_by": "U0MKT1"}  # a commitment that began as a request
COUNTERED = {"proposed_due": TODAY + timedelta(days=20), "proposed_by": "U0CIO"}

# (commitment status, initiative status, days from today to due) -> the rules that hold.
MEANING = [
    ("open", "active", -1, {"live", "pending", "overdue"}),
    ("slipped", "proposed", -30, {"live", "pending", "overdue"}),
    ("open", "blocked", -1, {"live", "pending", "overdue"}),  # a blocked initiative is still open
    ("open", "active", 0, {"live", "pending", "due soon"}),  # due today is not late yet
    ("slipped", "active", 6, {"live", "pending", "due soon"}),  # the seventh day, today included
    ("open", "active", 7, {"live", "pending", "due later"}),
    ("blocked", "active", -30, {"live", "blocked"}),  # waits on someone else: never late
    ("blocked", "active", 1, {"live", "blocked"}),
    ("done", "active", -1, set()),
    ("cancelled", "active", -1, set()),
    ("open", "done", -1, set()),  # nothing is owed on a closed initiative
    ("slipped", "dropped", 1, set()),
    ("blocked", "dropped", -1, set()),
    # Requests: asked, never owed nor late until a function promises it.
    ("requested", "active", -30, {"request", "unanswered"}),
    ("requested", "active", 3, {"request"}, COUNTERED),  # another date waits for the asker
    ("requested", "done", -1, set()),
    ("declined", "active", -1, set()),
    ("open", "active", -1, {"live", "pending", "overdue", "accepted"}, ASKED),  # once accepted, a promise like any
    ("done", "dropped", 3, {"accepted"}, ASKED),
]


@pytest.fixture
def sessions(migrated_url):
    engine = make_engine(migrated_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def store(sessions, cases) -> dict[int, tuple]:
    """One initiative with one commitment per case; the commitment's id -> its case."""
    stored = {}
    with transaction(sessions) as session:
        for case in cases:
            status, initiative_status, offset = case[:3]
            extra = dict(case[4]) if len(case) > 4 else {}
            if status in (rules.REQUESTED, rules.DECLINED):  # a request: asked, owned by nobody
                extra = {**ASKED, "owner": None, **extra}
            initiative = Initiative(
                title="t", journey="customer", status=initiative_status, proposer="U0CMO", created_at=NOW, updated_at=NOW
            )
            commitment = Commitment(
                from_function="it",
                to_function="marketing",
                **{"owner": "U0CIO", **extra},
                what="w",
                due=TODAY + timedelta(days=offset),
                status=status,
                created_at=NOW,
                updated_at=NOW,
            )
            initiative.commitments.append(commitment)
            session.add(initiative)
            session.flush()
            stored[commitment.id] = case
    return stored


def held(sessions, ids) -> tuple[dict[str, set[int]], dict[str, set[int]]]:
    """For each rule, the ids its predicate accepts and the ids its expression selects."""
    with sessions() as session:
        loaded = session.scalars(select(Commitment).where(Commitment.id.in_(ids)).options(selectinload(Commitment.initiative))).all()
        by_predicate = {name: {c.id for c in loaded if predicate(c)} for name, (predicate, _) in COMMITMENT_RULES.items()}
        by_query = {
            name: set(session.scalars(select(Commitment.id).where(Commitment.id.in_(ids), expression())))
            for name, (_, expression) in COMMITMENT_RULES.items()
        }
    return by_predicate, by_query


def test_each_rule_means_what_it_says(sessions):
    stored = store(sessions, MEANING)
    by_predicate, by_query = held(sessions, list(stored))
    for id_, (status, initiative_status, offset, expected, *_) in stored.items():
        for name in COMMITMENT_RULES:
            case = f"{status} commitment due {offset:+d} on a {initiative_status} initiative: {name}"
            assert (id_ in by_predicate[name]) == (name in expected), case
            assert (id_ in by_query[name]) == (name in expected), case


def test_predicates_and_expressions_agree_on_every_combination(sessions):
    # Half the promises began as requests; half the requests wait for the asker to take another date.
    cases = [
        (status, initiative, offset, None, (COUNTERED if status == rules.REQUESTED else ASKED) if offset % 2 else {})
        for status, initiative, offset in product(rules.COMMITMENT_STATUSES, rules.INITIATIVE_STATUSES, OFFSETS)
    ]
    stored = store(sessions, cases)
    by_predicate, by_query = held(sessions, list(stored))
    for name in COMMITMENT_RULES:
        assert by_predicate[name] == by_query[name], name
        assert by_predicate[name], f"no case exercises {name}"
    # Live commitments split into exactly one of overdue, due soon, due later and blocked
    # (the App Home's lists); nothing else is in any of them.
    parts = ("overdue", "due soon", "due later", "blocked")
    for id_ in stored:
        found = [name for name in parts if id_ in by_predicate[name]]
        assert len(found) == (1 if id_ in by_predicate["live"] else 0), (stored[id_], found)


def test_an_initiative_is_open_until_done_or_dropped(sessions):
    with transaction(sessions) as session:
        for status in rules.INITIATIVE_STATUSES:
            session.add(Initiative(title=status, journey="customer", status=status, proposer="U0CMO", created_at=NOW, updated_at=NOW))
    with sessions() as session:
        by_predicate = {i.status for i in session.scalars(select(Initiative)) if rules.is_open(i)}
        by_query = set(session.scalars(select(Initiative.status).where(rules.open_initiative())))
    assert by_predicate == by_query == {"proposed", "active", "blocked"}


def test_soon_is_seven_days_today_included():
    assert rules.last_soon_day(TODAY) == date(2030, 3, 20)
    assert rules.first_late_day(TODAY) == date(2030, 3, 15)


def test_the_home_tab_the_digest_pair_health_and_the_reports_agree(migrated_url, sessions):
    settings = demo_settings(migrated_url)
    stored = store(sessions, MEANING)  # every commitment is owed by U0CIO, from IT to Marketing
    expected = {name: {id_ for id_, case in stored.items() if name in case[3]} for name in COMMITMENT_RULES}
    with sessions() as session:
        mine = core_home.gather(session, settings, "U0CIO", ("it",), TODAY, NOW)
        marketing = core_home.gather(session, settings, "U0CMO", ("marketing",), TODAY, NOW)
        built = digest.build(session, settings, NOW)
        [row] = [row for row in digest.pair_rows(session, settings, NOW) if set(row.functions) == {"it", "marketing"}]
        late_in_report = {row["id"] for row in REPORTS["commitments"](session, settings, NOW) if row["overdue"]}
        everything = session.scalars(select(Commitment).options(selectinload(Commitment.initiative))).all()
        pair = Pair(function_a="it", function_b="marketing", created_at=NOW, nudge_level=0, nudge_round=0)
        assessed = health.assess(pair, everything, NOW, settings)

    def ids(listed) -> set[int]:
        assert listed.total == len(listed.items)  # all shown: the sets compare whole lists
        return {item.id for item in listed.items}

    assert ids(mine.overdue) == ids(built.overdue) == late_in_report == {o.id for o in assessed.overdue} == expected["overdue"]
    assert ids(mine.due_soon) == ids(built.due_soon) == expected["due soon"]
    assert ids(mine.later) == expected["due later"]
    assert ids(mine.blocked) == expected["blocked"]  # owed, but not overdue: they wait on someone else
    assert ids(marketing.owed_to_me) == expected["live"]
    assert (row.open_commitments, row.overdue_commitments) == (len(expected["live"]), len(expected["overdue"]))
    # Requests: asked of IT on the Home tab and counted per pair, never among what is owed.
    assert ids(mine.asked_of_me) == expected["request"]
    declined = {id_ for id_, case in stored.items() if case[0] == rules.DECLINED}
    assert (row.requests_waiting, row.requests_accepted, row.requests_declined) == (
        len(expected["request"]),
        len(expected["accepted"]),
        len(declined),
    )
    assert not expected["request"] & (expected["live"] | expected["overdue"])


@pytest.mark.parametrize(
    "today, last",
    [
        (date(2026, 3, 14), date(2036, 3, 14)),
        (date(2028, 2, 29), date(2038, 2, 28)),  # no 29 February in 2038
        (date(2024, 2, 29), date(2034, 2, 28)),
        (date(9995, 6, 1), date.max),  # no year 10005: the calendar's last day
    ],
)
def test_a_typed_date_may_be_ten_years_ahead_to_the_day(today, last):
    assert rules.last_allowed_day(today) == last
    assert not rules.too_far(last, today)
    assert last == date.max or rules.too_far(last + timedelta(days=1), today)
    assert not rules.too_far(today, today)
    assert rules.too_far(date.max, TODAY)
