"""Working days and hours in a person's own time zone: weekends, nights, the date line, DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import NudgeConfig
from bot.core.calendar import END, WorkWeek

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
AUCKLAND = ZoneInfo("Pacific/Auckland")  # UTC+13 in March: already tomorrow
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")  # UTC-11: still yesterday
WEEK = WorkWeek.of(NudgeConfig())  # mon-fri, 09:00-18:00


def at(zone: ZoneInfo, day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """March 2026: the 2nd is a Monday, the 7th a Saturday."""
    return datetime(2026, month, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    "moment, working",
    [
        (at(PARIS, 2, 9), True),
        (at(PARIS, 2, 8, 59), False),
        (at(PARIS, 2, 18), False),  # the end is exclusive
        (at(PARIS, 6, 17, 59), True),
        (at(PARIS, 7, 11), False),  # Saturday
        (at(PARIS, 8, 11), False),  # Sunday
        (at(PARIS, 4, 2), False),  # night
    ],
)
def test_working_time_in_paris(moment, working):
    assert WEEK.is_working(moment, PARIS) is working


def test_the_same_instant_is_working_time_in_one_zone_and_not_in_another():
    friday_evening_utc = datetime(2026, 3, 6, 21, 0, tzinfo=UTC)
    assert WEEK.is_working(friday_evening_utc, PAGO_PAGO)  # Friday 10:00
    assert not WEEK.is_working(friday_evening_utc, AUCKLAND)  # Saturday 10:00
    assert not WEEK.is_working(friday_evening_utc, PARIS)  # Friday 22:00


@pytest.mark.parametrize(
    "moment, expected",
    [
        (at(PARIS, 2, 10), at(PARIS, 2, 10)),  # already working time: now
        (at(PARIS, 2, 7), at(PARIS, 2, 9)),  # early morning: 09:00 the same day
        (at(PARIS, 2, 19), at(PARIS, 3, 9)),  # evening: 09:00 the next day
        (at(PARIS, 6, 18, 30), at(PARIS, 9, 9)),  # Friday evening: Monday
        (at(PARIS, 7, 12), at(PARIS, 9, 9)),  # Saturday: Monday
    ],
)
def test_next_working_defers_to_the_next_working_hour(moment, expected):
    assert WEEK.next_working(moment, PARIS) == expected


def test_next_working_across_the_date_line():
    friday_evening_utc = datetime(2026, 3, 6, 21, 0, tzinfo=UTC)
    # In Auckland it is Saturday: Monday 09:00 there, which is Sunday 20:00 UTC.
    assert WEEK.next_working(friday_evening_utc, AUCKLAND) == datetime(2026, 3, 8, 20, 0, tzinfo=UTC)
    assert WEEK.next_working(friday_evening_utc, PAGO_PAGO) == friday_evening_utc


def test_next_working_is_aware_utc():
    moment = WEEK.next_working(at(PARIS, 7, 12), NEW_YORK)
    assert moment.utcoffset() == timedelta(0)
    assert moment.astimezone(NEW_YORK).time() == time(9)


def test_daylight_saving_keeps_nine_oclock_local():
    # Europe moves to summer time on Sunday 29 March 2026: Monday 09:00 is 07:00 UTC, not 08:00.
    assert WEEK.next_working(at(PARIS, 28, 12), PARIS) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "start, end, days",
    [
        (at(PARIS, 2, 10), at(PARIS, 2, 17), 0),  # the same day never counts
        (at(PARIS, 2, 10), at(PARIS, 3, 8), 1),
        (at(PARIS, 6, 16), at(PARIS, 9, 9), 1),  # Friday to Monday: the weekend does not count
        (at(PARIS, 2, 10), at(PARIS, 9, 10), 5),
        (at(PARIS, 2, 10), at(PARIS, 30, 10), 20),
        (at(PARIS, 9, 10), at(PARIS, 2, 10), 0),  # backwards
    ],
)
def test_working_days_between(start, end, days):
    assert WEEK.working_days_between(start, end, PARIS) == days


def test_add_working_days_is_the_first_moment_the_count_is_reached():
    start = at(PARIS, 5, 15)  # a Thursday
    for count in range(1, 30):
        moment = WEEK.add_working_days(start, count, PARIS)
        assert WEEK.working_days_between(start, moment, PARIS) == count
        assert WEEK.working_days_between(start, moment - timedelta(seconds=1), PARIS) == count - 1
    assert WEEK.add_working_days(start, 5, PARIS) == at(PARIS, 12, 0)  # Thursday to Thursday


def test_a_custom_week():
    week = WorkWeek.of(NudgeConfig(working_days=("sun", "mon", "tue", "wed", "thu"), working_hours=(time(8), time(16))))
    assert week.is_working(at(PARIS, 8, 8), PARIS)  # Sunday 08:00
    assert not week.is_working(at(PARIS, 6, 10), PARIS)  # Friday
    assert week.next_working(at(PARIS, 5, 16), PARIS) == at(PARIS, 8, 8)


def test_next_common_finds_the_shared_hour():
    # 08:00 Paris is 02:00 New York; the first hour both work is 15:00 Paris, 09:00 New York.
    assert WEEK.next_common(at(PARIS, 2, 8), [PARIS, NEW_YORK]) == at(PARIS, 2, 15)
    assert WEEK.is_common(at(PARIS, 2, 16), [PARIS, NEW_YORK])
    assert not WEEK.is_common(at(PARIS, 2, 10), [PARIS, NEW_YORK])


def test_next_common_without_overlap_takes_the_first_to_work():
    # Tokyo 09:00-18:00 is 00:00-09:00 UTC; New York 09:00-18:00 is 14:00-23:00 UTC.
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday: 19:00 in Tokyo, 05:00 in New York
    moment = WEEK.next_common(start, [TOKYO, NEW_YORK])
    assert moment == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York (EST)
    assert WEEK.is_working(moment, NEW_YORK)


def test_the_calendar_ends_before_python_dates_do():
    # From near the end of time, counting on would overflow: the answer is "never".
    assert WEEK.add_working_days(datetime(9998, 12, 29, 12, tzinfo=UTC), 5, PARIS) is None
    assert WEEK.add_working_days(datetime(9999, 12, 31, 12, tzinfo=UTC), 1, PARIS) is None
    assert WEEK.add_working_days(datetime(2026, 3, 2, 12, tzinfo=UTC), 3 * 10**6, PARIS) is None  # ~11,500 years on
    # Up to END it still counts as usual.
    start = datetime(9998, 12, 21, 12, tzinfo=UTC)  # a Monday
    moment = WEEK.add_working_days(start, 5, PARIS)
    assert moment is not None and WEEK.working_days_between(start, moment, PARIS) == 5
    assert moment.astimezone(PARIS).date() == END - timedelta(days=4)  # Monday 28 December 9998
