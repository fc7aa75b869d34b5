"""How a pair of functions is doing on one initiative, from its activity and commitments.

A pair is *stalled* when one of its functions (or both) has been silent on the initiative for
`stall_after_days` working days, or when a commitment between them is overdue
(`rules.is_overdue`); *quiet* from half that silence on; else *active*. A function that never
acted is silent since the pair began. Days, and the day a commitment is overdue from, are of
the hub's calendar: a pair has no time zone of its own. A commitment that could only be late
after the calendar's END (due 9999-12-31, typed into the database) is never late: it changes
nothing in our lifetime.

The stored `Pair.state` adds what only the nudges know: `snoozed` and `escalated`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

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
    owner: str
    what: str
    due: date
    days_late: int


@dataclass(frozen=True)
class Health:
    functions: tuple[str, str]
    silent_days: tuple[int, int]  # working days, in the order of `functions`
    never_acted: tuple[bool, bool]
    overdue: tuple[Overdue, ...]
    stalled: bool
    quiet: bool
    changes_at: datetime | None  # when time alone will change this assessment

    @property
    def state(self) -> str:
        return STALLED if self.stalled else QUIET if self.quiet else ACTIVE

    @property
    def days_silent(self) -> int:
        return max(self.silent_days)


def quiet_after(settings: Settings) -> int:
    return max(1, (settings.nudges.stall_after_days + 1) // 2)


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
    overdue = []
    for commitment in between(pair, commitments):
        if rules.is_overdue(commitment, today):
            overdue.append(
                Overdue(
                    commitment.id,
                    commitment.from_function,
                    commitment.to_function,
                    commitment.owner,
                    commitment.what,
                    commitment.due,
                    (today - commitment.due).days,
                )
            )
        elif rules.is_pending(commitment) and commitment.due < END:
            later.append(local_moment(rules.first_late_day(commitment.due), time(0), zone))
    overdue.sort(key=lambda item: (item.due, item.id))
    return Health(
        functions=pair.functions,
        silent_days=(silent[0], silent[1]),
        never_acted=(pair.last_activity_a is None, pair.last_activity_b is None),
        overdue=tuple(overdue),
        stalled=max(silent) >= stall or bool(overdue),
        quiet=max(silent) >= quiet,
        changes_at=min((moment for moment in later if moment > now), default=None),
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
