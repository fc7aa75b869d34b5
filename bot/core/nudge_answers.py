"""What people answer to a nudge: We're on it, Snooze a week, Blocked and Nudge them again.

Each answer locks the pair first, so two clicks at once are handled one after the other, and
checks the round the button belongs to, so an old button changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import activity, health, pairs, permissions
from bot.core.nudges import SNOOZE, end_round
from bot.models import Activity, Initiative, Pair

ON_IT = "nudge_on_it"  # Activity.kind


class Outcome(str, Enum):
    DONE = "done"
    ALREADY = "already"  # a double click, or someone else was first
    STALE = "stale"  # the nudge belongs to a round that is over
    REFUSED = "refused"
    NOT_FOUND = "not_found"
    NO_FUNCTION = "no_function"  # only the pair's own people can answer for it


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    initiative_id: int | None = None
    functions: tuple[str, ...] = ()
    until: datetime | None = None  # snoozed until
    by: str | None = None  # who did it first


def may_act(user_id: str, pair: Pair, initiative: Initiative, settings: Settings) -> bool:
    """Like every change: the leads, the sponsor, hub staff and admins; and the executives,
    who receive the escalations of an initiative without a sponsor."""
    if permissions.may_act_on_pair(user_id, pair.functions, initiative, settings):
        return True
    return initiative.sponsor is None and user_id in settings.hub.executives


def _locked_pair(session: Session, pair_id: int) -> Pair | None:
    # Two clicks at once are handled one after the other. All of the initiative's pairs are
    # locked, as every writer of a pair does (`pairs.locked`): "We're on it" goes on to record
    # activity, which locks them all, and taking one lock first could deadlock with a reply.
    initiative_id = session.scalar(select(Pair.initiative_id).where(Pair.id == pair_id))
    if initiative_id is None:
        return None
    return next((pair for pair in pairs.locked(session, initiative_id) if pair.id == pair_id), None)


def _authorised(session: Session, settings: Settings, pair_id: int, user_id: str) -> tuple[Pair | None, Answer | None]:
    pair = _locked_pair(session, pair_id)
    if pair is None:
        return None, Answer(Outcome.NOT_FOUND)
    if not may_act(user_id, pair, pair.initiative, settings):
        return None, Answer(Outcome.REFUSED, pair.initiative_id, pair.functions)
    return pair, None


def on_it(
    session: Session, settings: Settings, pair_id: int, nudge_id: int, user_id: str, user_functions: Sequence[str], now: datetime
) -> Answer:
    """ "We're on it": activity of the person's function(s) in the pair, recorded once."""
    pair, refused = _authorised(session, settings, pair_id, user_id)
    if pair is None:
        return refused  # type: ignore[return-value]
    answer = Answer(Outcome.DONE, pair.initiative_id, pair.functions)
    keys = [key for key in user_functions if key in pair.functions]
    if not keys:
        return Answer(Outcome.NO_FUNCTION, pair.initiative_id, pair.functions)
    ref = f"nudge:{nudge_id}"
    seen = session.scalar(
        select(func.count()).select_from(Activity).where(Activity.user_id == user_id, Activity.kind == ON_IT, Activity.ref == ref)
    )
    if seen:
        return Answer(Outcome.ALREADY, pair.initiative_id, pair.functions, by=user_id)
    activity.record(session, pair.initiative, user_id, keys, ON_IT, now, ref=ref)
    return answer


def snooze(session: Session, settings: Settings, pair_id: int, round_: int, user_id: str, now: datetime) -> Answer:
    """No nudge for a week; then, if still stalled, a new round begins."""
    pair, refused = _authorised(session, settings, pair_id, user_id)
    if pair is None:
        return refused  # type: ignore[return-value]
    if pair.nudge_round != round_:
        snoozed = pair.snoozed_until is not None and pair.snoozed_until > now
        return Answer(Outcome.ALREADY if snoozed else Outcome.STALE, pair.initiative_id, pair.functions, until=pair.snoozed_until)
    end_round(session, pair)
    pair.snoozed_until = now + SNOOZE
    pair.state, pair.next_check_at = health.SNOOZED, pair.snoozed_until
    return Answer(Outcome.DONE, pair.initiative_id, pair.functions, until=pair.snoozed_until)


def blocked(session: Session, settings: Settings, pair_id: int, round_: int, user_id: str, now: datetime) -> Answer:
    """The pair is stuck: tell the executive now instead of after `escalate_after_days`."""
    pair, refused = _authorised(session, settings, pair_id, user_id)
    if pair is None:
        return refused  # type: ignore[return-value]
    if pair.nudge_round != round_:
        return Answer(Outcome.STALE, pair.initiative_id, pair.functions)
    if pair.blocked_by or pair.nudge_level >= 2:
        return Answer(Outcome.ALREADY, pair.initiative_id, pair.functions, by=pair.blocked_by)
    pair.blocked_by = user_id
    _check_soon(pair, now)
    return Answer(Outcome.DONE, pair.initiative_id, pair.functions)


def again(session: Session, settings: Settings, pair_id: int, round_: int, user_id: str, now: datetime) -> Answer:
    """An executive asks for the pair to be nudged again: a new round, starting now."""
    pair, refused = _authorised(session, settings, pair_id, user_id)
    if pair is None:
        return refused  # type: ignore[return-value]
    if pair.nudge_round != round_:
        return Answer(Outcome.ALREADY, pair.initiative_id, pair.functions)
    end_round(session, pair)
    pair.snoozed_until = None
    pair.next_check_at = now
    return Answer(Outcome.DONE, pair.initiative_id, pair.functions)


def _check_soon(pair: Pair, at: datetime) -> None:
    if pair.next_check_at is None or pair.next_check_at > at:
        pair.next_check_at = at
