"""Working days and hours, in one time zone at a time.

Times go in and out as aware UTC; a zone says whose calendar is meant (a recipient's own, or
the hub's). "N working days after" a moment is counted in local dates: the moment's own day
never counts, each later working day does, so a pair silent since Friday afternoon has been
silent one working day on Monday and five on the next Friday.

Python's dates end on 9999-12-31, and a step past that overflows. The calendar stops at END,
a year short of it: what would fall later is "never" (None) to a schedule, so a due date
typed as 9999-12-31 simply never changes anything in our lifetime.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import DAYS, NudgeConfig

WEEK = timedelta(days=7)
END = date(9999, 1, 1)  # a year of room for any step and any time zone before date.max


@dataclass(frozen=True)
class WorkWeek:
    days: frozenset[int]  # date.weekday(): 0 is Monday
    start: time
    end: time

    @classmethod
    @functools.cache  # one per configuration, asked for by every pair a sweep decides
    def of(cls, config: NudgeConfig) -> WorkWeek:
        return cls(frozenset(DAYS.index(day) for day in config.working_days), *config.working_hours)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days

    def is_working(self, at: datetime, zone: ZoneInfo) -> bool:
        local = at.astimezone(zone)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_working(self, at: datetime, zone: ZoneInfo) -> datetime:
        """`at` itself when it is working time in `zone`, else the start of the next working hours."""
        if self.is_working(at, zone):
            return at
        local = at.astimezone(zone)
        day = local.date()
        if not (self.is_working_day(day) and local.time() < self.start):
            day = self._next_working_day(day)
        return local_moment(day, self.start, zone)

    def next_common(self, at: datetime, zones: Iterable[ZoneInfo]) -> datetime:
        """The first moment from `at` that is working time in every zone; when their working
        hours never overlap (Tokyo and New York), the first that is working time in one."""
        zones = list(dict.fromkeys(zones))
        common = self.first_common(at, zones)
        return common if common is not None else min(self.next_working(at, zone) for zone in zones)

    def first_common(self, at: datetime, zones: Iterable[ZoneInfo]) -> datetime | None:
        """The first moment from `at` that is working time in every zone; None when their
        working hours never overlap."""
        return _first_common(self, at, tuple(dict.fromkeys(zones)))

    def is_common(self, at: datetime, zones: Iterable[ZoneInfo]) -> bool:
        return self.next_common(at, zones) == at

    def silent_since(self, today: date, count: int) -> date:
        """The latest date after which `count` working days have passed by `today` (their last
        one included): `working_days_between` a moment of that date or earlier, and `today`,
        is at least `count`. The SQL form of "silent for `count` working days" compares with it."""
        day, seen = today, 0
        while seen < count:
            seen += self.is_working_day(day)
            day -= timedelta(days=1)
        return day

    def working_days_between(self, start: datetime, end: datetime, zone: ZoneInfo) -> int:
        """Working days after `start`'s local date, up to and including `end`'s."""
        return _working_days(self, start.astimezone(zone).date(), end.astimezone(zone).date())

    def add_working_days(self, start: datetime, count: int, zone: ZoneInfo) -> datetime | None:
        """The first moment (local midnight) when `working_days_between(start, it)` reaches
        `count`; None when that is past the calendar's END."""
        if count <= 0:
            return start
        return _after_working_days(self, start.astimezone(zone).date(), count, zone)

    def _next_working_day(self, day: date) -> date:
        for n in range(1, 8):
            candidate = day + timedelta(days=n)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError("a work week needs at least one working day")


# A sweep asks the same few questions for thousands of pairs (the same moment, the same zones,
# the same dates of last activity): the answers depend on nothing else, and are kept.


@functools.lru_cache(maxsize=4096)
def _first_common(week: WorkWeek, at: datetime, zones: tuple[ZoneInfo, ...]) -> datetime | None:
    if not zones:
        return at
    # An overlap of intervals begins where one of them begins, or now.
    candidates = [at]
    for zone in zones:
        moment = week.next_working(at, zone)
        for _ in range(8):
            candidates.append(moment)
            moment = local_moment(week._next_working_day(moment.astimezone(zone).date()), week.start, zone)
    for moment in sorted(candidates):
        if all(week.is_working(moment, zone) for zone in zones):
            return moment
    return None


@functools.lru_cache(maxsize=65536)
def _working_days(week: WorkWeek, first: date, last: date) -> int:
    span = (last - first).days
    if span <= 0:
        return 0
    weeks, rest = divmod(span, 7)
    return weeks * len(week.days) + sum(week.is_working_day(first + timedelta(days=n)) for n in range(1, rest + 1))


@functools.lru_cache(maxsize=65536)
def _after_working_days(week: WorkWeek, day: date, count: int, zone: ZoneInfo) -> datetime | None:
    weeks, rest = divmod(count - 1, len(week.days))
    if (END - day).days < 7 * weeks:
        return None
    day += timedelta(days=7 * weeks)
    for _ in range(rest + 1):
        if day > END:  # each step is at most a week: from END it still fits
            return None
        day = week._next_working_day(day)
    return local_moment(day, time(0), zone) if day <= END else None


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The aware UTC moment of wall-clock `at` on `day` in `zone`."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()
