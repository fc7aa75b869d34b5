"""What people answer to a nudge: We're on it, Snooze a week, Blocked (the pair's message) and
Nudge them again (the executive's DM). Blocked and Nudge them again are followed by a sweep of
that pair alone, so the executive or the pair hear at once (in working hours)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.app.hub import Hub
from bot.app.people import functions_of, zone_of
from bot.app.sweep import SweepReport, run_sweep
from bot.core import nudge_answers as nudges
from bot.db import transaction


class Choice(str, Enum):
    ON_IT = "on_it"
    SNOOZE = "snooze"
    BLOCKED = "blocked"
    AGAIN = "again"


@dataclass(frozen=True)
class Clicked:
    """What the click did, what the sweep right after it did, and where the person is."""

    choice: Choice
    answer: nudges.Answer
    followed: SweepReport | None
    zone: ZoneInfo


Apply = Callable[[Session, Hub, "Click", datetime], nudges.Answer]


@dataclass(frozen=True)
class Click:
    user: str
    pair: int
    round: int
    nudge: int
    functions: tuple[str, ...] = ()


_APPLY: dict[Choice, Apply] = {
    Choice.ON_IT: lambda session, hub, c, now: nudges.on_it(session, hub.settings, c.pair, c.nudge, c.user, c.functions, now),
    Choice.SNOOZE: lambda session, hub, c, now: nudges.snooze(session, hub.settings, c.pair, c.round, c.user, now),
    Choice.BLOCKED: lambda session, hub, c, now: nudges.blocked(session, hub.settings, c.pair, c.round, c.user, now),
    Choice.AGAIN: lambda session, hub, c, now: nudges.again(session, hub.settings, c.pair, c.round, c.user, now),
}
FOLLOWED_BY_SWEEP = {Choice.BLOCKED, Choice.AGAIN}


def answer(hub: Hub, choice: Choice, user: str, pair: int, round_: int, nudge: int) -> Clicked:
    functions = tuple(functions_of(hub, user)) if choice is Choice.ON_IT else ()
    click = Click(user, pair, round_, nudge, functions)
    with transaction(hub.sessions) as session:
        result = _APPLY[choice](session, hub, click, hub.clock.now())
    done = result.outcome is nudges.Outcome.DONE
    followed = run_sweep(hub, pair_ids=[pair]) if done and choice in FOLLOWED_BY_SWEEP else None
    return Clicked(choice, result, followed, zone_of(hub, user))
