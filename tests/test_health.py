"""Pair health from activity and commitments, in working days of the hub's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core import health
from bot.models import Commitment, Initiative, Pair
from bot.sandbox.harness import demo_settings

PARIS = ZoneInfo("Europe/Paris")
SETTINGS = demo_settings("sqlite://")  # stall after 5 working days, mon-fri
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)


def pair(*, a: datetime | None = None, b: datetime | None = None, **extra) -> Pair:
    return Pair(
        function_a="it",
        function_b="marketing",
        created_at=MONDAY,
        last_activity_a=a,
        last_activity_b=b,
        nudge_level=0,
        nudge_round=0,
        **extra,
    )


def commitment(
    due: date, status: str = "open", ends: tuple[str, str] = ("it", "marketing"), id: int = 1, initiative: str = "active"
) -> Commitment:
    # Whether a commitment is overdue depends on its initiative being open (bot.core.rules).
    return Commitment(
        id=id,
        from_function=ends[0],
        to_function=ends[1],
        owner="U0CIO",
        what="API spec",
        due=due,
        status=status,
        initiative=Initiative(status=initiative),
    )


def days(n: int) -> timedelta:
    return timedelta(days=n)


def test_a_new_pair_is_active_then_quiet_then_stalled():
    fresh = pair()
    assert health.assess(fresh, [], MONDAY + days(1), SETTINGS).state == "active"
    assert health.assess(fresh, [], MONDAY + days(3), SETTINGS).state == "quiet"  # 3 working days
    stalled = health.assess(fresh, [], MONDAY + days(7), SETTINGS)  # next Monday: 5 working days
    assert stalled.state == "stalled"
    assert stalled.silent_days == (5, 5) and stalled.never_acted == (True, True)


def test_one_function_silent_while_the_other_acts_is_stalled():
    moment = MONDAY + days(7)
    assessed = health.assess(pair(a=moment - timedelta(hours=1)), [], moment, SETTINGS)
    assert assessed.stalled
    assert assessed.silent_days == (0, 5)
    assert assessed.never_acted == (False, True)


def test_both_active_lately_is_active():
    moment = MONDAY + days(7)
    assessed = health.assess(pair(a=moment - days(1), b=moment - days(4)), [], moment, SETTINGS)  # Sunday, Thursday
    assert assessed.state == "active"
    assert assessed.silent_days == (1, 2)  # Saturday and Sunday do not count


def test_a_weekend_does_not_stall_a_pair():
    friday = MONDAY + days(4)
    assessed = health.assess(pair(a=friday, b=friday), [], friday + days(3), SETTINGS)  # Monday
    assert assessed.silent_days == (1, 1) and assessed.state == "active"


def test_an_overdue_commitment_between_them_stalls_an_active_pair():
    moment = MONDAY + days(7)
    lively = dict(a=moment - days(1), b=moment - days(1))
    due_yesterday = commitment(moment.date() - days(1))
    assessed = health.assess(pair(**lively), [due_yesterday], moment, SETTINGS)
    assert assessed.stalled
    [late] = assessed.overdue
    assert late.days_late == 1 and late.what == "API spec"


@pytest.mark.parametrize(
    "item",
    [
        commitment(date(2026, 3, 9)),  # due today: not yet late
        commitment(date(2026, 3, 1), status="done"),
        commitment(date(2026, 3, 1), status="blocked"),  # waits on someone else
        commitment(date(2026, 3, 1), status="cancelled"),
        commitment(date(2026, 3, 1), ends=("it", "hr")),  # another pair
        commitment(date(2026, 3, 1), initiative="dropped"),  # nothing is owed on a closed initiative
    ],
    ids=["due-today", "done", "blocked", "cancelled", "other-pair", "closed-initiative"],
)
def test_what_is_not_overdue_for_this_pair(item):
    moment = datetime(2026, 3, 9, 10, 0, tzinfo=PARIS)
    assessed = health.assess(pair(a=moment, b=moment), [item], moment, SETTINGS)
    assert assessed.overdue == () and not assessed.stalled


def test_a_slipped_commitment_past_its_new_date_is_overdue():
    moment = datetime(2026, 3, 9, 10, 0, tzinfo=PARIS)
    assessed = health.assess(pair(a=moment, b=moment), [commitment(date(2026, 3, 6), status="slipped")], moment, SETTINGS)
    assert assessed.stalled and [o.days_late for o in assessed.overdue] == [3]


def test_changes_at_is_the_next_moment_time_alone_changes_the_state():
    assessed = health.assess(pair(), [], MONDAY, SETTINGS)
    quiet_at = datetime(2026, 3, 5, 0, 0, tzinfo=PARIS).astimezone(UTC)  # 3 working days
    assert assessed.changes_at == quiet_at
    later = health.assess(pair(), [], quiet_at, SETTINGS)
    assert later.state == "quiet"
    assert later.changes_at == datetime(2026, 3, 9, 0, 0, tzinfo=PARIS)  # stalled from Monday
    # A commitment due on Wednesday makes Thursday 00:00 a change, earlier than the stall.
    with_due = health.assess(pair(), [commitment(date(2026, 3, 4))], MONDAY, SETTINGS)
    assert with_due.changes_at == datetime(2026, 3, 5, 0, 0, tzinfo=PARIS)


def test_snoozed_and_escalated_are_kinds_of_stalled():
    moment = MONDAY + days(7)
    stalled = health.assess(pair(), [], moment, SETTINGS)
    assert health.state_of(pair(snoozed_until=moment + days(1)), stalled, moment) == "snoozed"
    assert health.state_of(pair(snoozed_until=moment - days(1)), stalled, moment) == "stalled"
    escalated = pair()
    escalated.nudge_level = 2
    assert health.state_of(escalated, stalled, moment) == "escalated"
    active = health.assess(pair(a=moment, b=moment), [], moment, SETTINGS)
    assert health.state_of(escalated, active, moment) == "active"


def test_a_due_date_at_the_end_of_time_never_changes_the_pair():
    # 9999-12-31, typed into the database: never overdue, and no day after it to wait for.
    far = commitment(date.max)
    stalled = health.assess(pair(), [far], MONDAY + days(7), SETTINGS)
    assert stalled.stalled and stalled.overdue == ()
    assert stalled.changes_at is None  # silent past every threshold, and nothing due in our lifetime
    active = health.assess(pair(a=MONDAY, b=MONDAY), [far], MONDAY, SETTINGS)
    assert active.state == "active"
    assert active.changes_at == datetime(2026, 3, 5, 0, 0, tzinfo=PARIS)  # quiet from Thursday, as without it


def request(created: datetime, due: date, *, proposed: date | None = None, initiative: str = "active") -> Commitment:
    """Marketing asks IT (IT is `from_function`, the function asked)."""
    return Commitment(
        id=7,
        from_function="it",
        to_function="marketing",
        owner=None,
        requested_by="U0MKT1",
        what="Clear the ERP obstacle",
        due=due,
        status="requested",
        proposed_due=proposed,
        created_at=created,
        initiative=Initiative(status=initiative),
    )


def test_an_unanswered_request_stalls_its_pair_after_stall_days_and_is_never_overdue():
    asked = request(MONDAY, due=MONDAY.date())  # wanted today: the date passes tomorrow
    friday = MONDAY + days(4)
    busy = pair(a=friday - timedelta(hours=1), b=friday - timedelta(hours=1))
    before = health.assess(busy, [asked], friday, SETTINGS)  # four working days waiting
    assert before.state == "active" and before.overdue == () and before.unanswered == ()
    assert before.changes_at == MONDAY.replace(hour=0) + days(7)  # the fifth working day begins

    monday = MONDAY + days(7)
    busy = pair(a=monday - timedelta(hours=1), b=monday - timedelta(hours=1))
    after = health.assess(busy, [asked], monday, SETTINGS)
    assert after.stalled and after.overdue == ()
    [waiting] = after.unanswered
    assert (waiting.id, waiting.from_function, waiting.asked_by, waiting.days_waiting) == (7, "it", "U0MKT1", 5)


@pytest.mark.parametrize(
    "answered",
    [
        request(MONDAY, date(2026, 4, 1), proposed=date(2026, 4, 15)),  # another date waits for the asker
        request(MONDAY, date(2026, 4, 1), initiative="dropped"),
    ],
    ids=["other-date-proposed", "closed-initiative"],
)
def test_a_request_no_longer_waiting_on_the_function_asked_stalls_nothing(answered):
    monday = MONDAY + days(7)
    busy = pair(a=monday - timedelta(hours=1), b=monday - timedelta(hours=1))
    assessed = health.assess(busy, [answered], monday, SETTINGS)
    assert assessed.state == "active" and assessed.unanswered == ()
