"""Pairs of functions on an initiative: what their activity means for their health."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.models import Pair


def locked(session: Session, initiative_id: int) -> list[Pair]:
    """The initiative's pairs, locked until the transaction ends and read afresh.

    Whoever changes a pair takes this first, so that two acts at once (a Marketing reply and
    an IT reply, on one process or two) are applied one after the other, the second seeing
    what the first wrote. It is a write that changes nothing: on Postgres it locks the rows,
    in id order so that two lockers never wait for each other; on SQLite it takes the
    database's write lock before anything is read. The read that follows sees what was
    committed while it waited.
    """
    in_order = select(Pair.id).where(Pair.initiative_id == initiative_id).order_by(Pair.id).with_for_update()
    session.execute(
        update(Pair).where(Pair.id.in_(in_order)).values(nudge_round=Pair.nudge_round).execution_options(synchronize_session=False)
    )
    fresh = select(Pair).where(Pair.initiative_id == initiative_id).order_by(Pair.id).execution_options(populate_existing=True)
    return list(session.scalars(fresh))


def touch(pair: Pair, function_key: str, at: datetime, *, joint: bool = False) -> None:
    """Record that `function_key` acted on the pair's initiative at `at`; the pair must have
    come from `locked`, or an act committed meanwhile by someone else would be overwritten.

    The pair has met when both functions have acted: its joint activity is the later of an
    explicitly joint act (a commitment between them, a nudge answered) and the moment the
    second of the two last acted.
    """
    if function_key == pair.function_a:
        pair.last_activity_a = _later(pair.last_activity_a, at)
    elif function_key == pair.function_b:
        pair.last_activity_b = _later(pair.last_activity_b, at)
    else:
        return
    met = at if joint else _earlier(pair.last_activity_a, pair.last_activity_b)
    if met is not None:
        pair.last_joint_activity_at = _later(pair.last_joint_activity_at, met)
    if pair.last_joint_activity_at == at and pair.state in ("quiet", "stalled", "escalated"):
        pair.state = "active"
    # Whether the pair recovered, and what becomes of its nudges, needs the calendar and its
    # commitments: the next sweep decides (bot.core.nudges), and a nudge already planned is
    # checked again before it is sent.
    if pair.next_check_at is None or pair.next_check_at > at:
        pair.next_check_at = at


def check_soon(session: Session, initiative_id: int, functions: tuple[str, str], at: datetime) -> None:
    """Have the sweep look at the pair of these two functions again by `at`: something that
    changes its health without being activity (a request asked or answered) happened.

    One conditional UPDATE that only brings the check forward: a sweep holding the row makes
    it wait, and it then applies to what the sweep wrote."""
    a, b = ordered_pair(*functions)
    session.execute(
        update(Pair)
        .where(
            Pair.initiative_id == initiative_id,
            Pair.function_a == a,
            Pair.function_b == b,
            or_(Pair.next_check_at.is_(None), Pair.next_check_at > at),
        )
        .values(next_check_at=at)
        .execution_options(synchronize_session=False)
    )


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return None
    return min(a, b)


def ordered_pair(a: str, b: str) -> tuple[str, str]:
    """Two functions in one order, whichever way round they come: the key of their pair."""
    return (a, b) if a <= b else (b, a)
