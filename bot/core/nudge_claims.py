"""The nudge outbox: every nudge, escalation and digest is claimed under a unique key before
it is sent, and sent by whichever sender first leases it. Nothing here talks to Slack: the
sender (bot/app/delivery.py) locks, rechecks, leases, posts and reports back with `mark_sent`
and friends.

- `claim` records a delivery under its key (`pair:12:r3:L2:U0CEO`) with INSERT … ON CONFLICT
  DO NOTHING, in the transaction that planned it: a second sweep computes the same key and
  claims nothing.
- `lock` takes claimed nudges whose moment has come (FOR UPDATE SKIP LOCKED; on SQLite an
  UPDATE takes the database's write lock) for a short transaction: recheck, then `lease` and
  commit. No lock is held while Slack is called: the lease moves `not_before` on by LEASE and
  says IN_FLIGHT in `error`, so no other sender takes them meanwhile. The outcome is written
  in another short transaction (`leased`, then `mark_sent` and friends).
- A sender that dies leaves its lease to run out: the nudges are due again, and the next
  sender, seeing IN_FLIGHT, first looks for the message in Slack by its key (the message's
  metadata) before sending it again.
- `recheck` assesses the pair again before sending: a pair that recovered, was snoozed, or
  moved to another round since the nudge was planned is not nudged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import health, rules
from bot.core.calendar import local_moment
from bot.core.health import Health
from bot.db import insert_for
from bot.models import Nudge, Pair

PAIR, EXECUTIVE, DIGEST = "pair", "executive", "digest"  # Nudge.kind
CLAIMED, SENT, FAILED, CANCELLED = "claimed", "sent", "failed", "cancelled"  # Nudge.status
MAX_ATTEMPTS = 5
LEASE = timedelta(seconds=90)  # longer than a post can take, retries and a pass's wait included
IN_FLIGHT = "in flight"  # the error of a leased nudge until its outcome is written
RETRY_AFTER = timedelta(minutes=15)  # a failed attempt waits this long, doubled each time


@dataclass(frozen=True)
class Delivery:
    """One message to send (or a claim on it): to a thread addressed to `recipients`, or a DM."""

    key: str
    kind: str
    level: int  # 1: the pair, 2: an executive, 0: the digest
    channel: str  # a channel, or the user ID of a DM
    recipients: tuple[str, ...]
    not_before: datetime
    initiative_id: int | None = None
    pair_id: int | None = None
    functions: tuple[str, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict, compare=False)


def pair_key(pair_id: int, round_: int, level: int, recipient: str | None = None) -> str:
    key = f"pair:{pair_id}:r{round_}:L{level}"
    return f"{key}:{recipient}" if recipient else key


def claim(session: Session, deliveries: Iterable[Delivery], now: datetime) -> list[Delivery]:
    """Record each delivery under its key; those another sweep claimed first are left out."""
    claimed = []
    for delivery in deliveries:
        statement = (
            insert_for(session)(Nudge)
            .values(
                key=delivery.key,
                kind=delivery.kind,
                level=delivery.level,
                initiative_id=delivery.initiative_id,
                pair_id=delivery.pair_id,
                recipients=list(delivery.recipients),
                channel=delivery.channel,
                payload={"functions": list(delivery.functions), **delivery.payload},
                status=CLAIMED,
                attempts=0,
                claimed_at=now,
                not_before=delivery.not_before,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(Nudge.id)
        )
        if session.execute(statement).first() is not None:
            claimed.append(delivery)
    return claimed


@dataclass(frozen=True)
class Pending:
    id: int
    kind: str
    channel: str | None
    initiative_id: int | None


def pending(session: Session, now: datetime, *, pair_ids: Sequence[int] | None = None, limit: int = 1000) -> list[Pending]:
    """Claimed nudges whose moment has come (or whose lease ran out), oldest first."""
    query = select(Nudge.id, Nudge.kind, Nudge.channel, Nudge.initiative_id).where(Nudge.status == CLAIMED, Nudge.not_before <= now)
    if pair_ids is not None:
        query = query.where(Nudge.pair_id.in_(pair_ids))
    return [Pending(*row) for row in session.execute(query.order_by(Nudge.not_before, Nudge.id).limit(limit))]


def lock(
    session: Session,
    now: datetime,
    *,
    ids: Sequence[int] | None = None,
    kind: str | None = None,
    initiative_id: int | None = None,
    channel: str | None = None,
) -> list[Nudge]:
    """Take claimed nudges whose moment has come for a short transaction, skipping those
    another sender holds: these `ids`, or all of one `kind` in one initiative's thread or
    to one person (`channel`), so that what goes to one place goes in one message."""
    query = select(Nudge.id).where(Nudge.status == CLAIMED, Nudge.not_before <= now)
    if ids is not None:
        query = query.where(Nudge.id.in_(ids))
    if kind is not None:
        query = query.where(Nudge.kind == kind)
    if initiative_id is not None:
        query = query.where(Nudge.initiative_id == initiative_id)
    if channel is not None:
        query = query.where(Nudge.channel == channel)
    free = list(session.scalars(query.with_for_update(skip_locked=True)))
    if not free:
        return []
    # SQLite ignores FOR UPDATE: this write takes its database lock until commit (on Postgres
    # the rows are ours already). What is still claimed after it is ours to send.
    session.execute(
        update(Nudge).where(Nudge.id.in_(free), Nudge.status == CLAIMED).values(status=CLAIMED).execution_options(synchronize_session=False)
    )
    taken = select(Nudge).where(Nudge.id.in_(free), Nudge.status == CLAIMED, Nudge.not_before <= now).order_by(Nudge.id)
    return list(session.scalars(taken.execution_options(populate_existing=True)))


def lease(rows: Sequence[Nudge], now: datetime) -> tuple[datetime, set[int]]:
    """Hold these nudges while their message is posted, outside any transaction; commit at
    once. The lease's end names it (`leased`). Also says which of them a sender held before
    and never said how it went: that message may be in Slack already."""
    until = now + LEASE
    unknown = {row.id for row in rows if row.error == IN_FLIGHT}
    for row in rows:
        row.not_before, row.error = until, IN_FLIGHT
    return until, unknown


def leased(session: Session, ids: Sequence[int], until: datetime) -> list[Nudge]:
    """These nudges, if still held under the lease that ends `until`, locked to write how it went."""
    query = select(Nudge).where(Nudge.id.in_(ids), Nudge.status == CLAIMED, Nudge.not_before == until, Nudge.error == IN_FLIGHT)
    return list(session.scalars(query.order_by(Nudge.id).with_for_update().execution_options(populate_existing=True)))


def release(nudge: Nudge, now: datetime, error: str | None = None) -> None:
    """Not sent, and not the nudge's fault (its channel's turn did not come, a 429): due
    again at once, no attempt counted."""
    nudge.not_before, nudge.error = now, error


def not_in_flight() -> Any:
    """Nudges no sender holds: another writer leaves those to their sender."""
    return or_(Nudge.error.is_(None), Nudge.error != IN_FLIGHT)


@dataclass(frozen=True)
class PairView:
    """A pair nudge as it is when sent: fresh facts, so the words match the moment."""

    nudge_id: int
    level: int
    pair_id: int
    round: int
    initiative_id: int
    title: str
    functions: tuple[str, str]
    health: Health
    sponsor: str | None
    hub_channel: str | None
    hub_ts: str | None
    blocked_by: str | None
    nudged_at: datetime | None  # when the pair itself was nudged this round
    recipients: tuple[str, ...] = ()  # whom this nudge addresses: both leads, or one in their own hours


def recheck(session: Session, settings: Settings, nudge: Nudge, now: datetime) -> PairView | None:
    """The pair nudge still deserved, or None when the pair moved on since it was planned."""
    pair = session.get(Pair, nudge.pair_id) if nudge.pair_id is not None else None
    if pair is None or pair.nudge_round != (nudge.payload or {}).get("round"):
        return None
    initiative = pair.initiative
    if not rules.is_open(initiative):
        return None
    if pair.snoozed_until is not None and pair.snoozed_until > now:
        return None
    assessed = health.assess(pair, initiative.commitments, now, settings)
    if not assessed.stalled:
        return None
    first = session.scalar(select(Nudge).where(Nudge.key == pair_key(pair.id, pair.nudge_round, 1))) if nudge.level > 1 else None
    return PairView(
        nudge_id=nudge.id,
        level=nudge.level,
        pair_id=pair.id,
        round=pair.nudge_round,
        initiative_id=initiative.id,
        title=initiative.title,
        functions=pair.functions,
        health=assessed,
        sponsor=initiative.sponsor,
        hub_channel=initiative.hub_channel,
        hub_ts=initiative.hub_ts,
        blocked_by=pair.blocked_by,
        nudged_at=first.sent_at if first is not None else None,
        recipients=tuple(nudge.recipients or ()),
    )


# The sender writes nudge rows only, never pairs: the pair's next check, planned with the
# nudge, reads how it went. So senders and sweeps never wait on each other's locks in a cycle.


def cancel(nudge: Nudge, reason: str) -> None:
    nudge.status, nudge.error = CANCELLED, reason


def nudged_on(session: Session, person: str, day: date, zone: ZoneInfo, now: datetime) -> bool:
    """Whether the person was sent a nudge DM (an escalation) on `day` of their calendar, or
    another sender is sending them one right now."""
    start = local_moment(day, time(0), zone)
    sent_that_day = and_(
        Nudge.status == SENT,
        Nudge.sent_at >= start,
        Nudge.sent_at < local_moment(day + timedelta(days=1), time(0), zone),
    )
    in_flight = and_(Nudge.status == CLAIMED, Nudge.error == IN_FLIGHT, Nudge.not_before > now)
    query = select(Nudge.id).where(Nudge.kind == EXECUTIVE, Nudge.channel == person, or_(sent_that_day, in_flight))
    return session.scalar(query.limit(1)) is not None


def defer(nudge: Nudge, until: datetime) -> None:
    nudge.not_before = until
    if nudge.error == IN_FLIGHT:
        nudge.error = None


def mark_sent(nudge: Nudge, ts: str, now: datetime) -> None:
    nudge.status, nudge.ts, nudge.sent_at, nudge.error = SENT, ts, now, None
    nudge.attempts += 1


def mark_failed(nudge: Nudge, error: str, now: datetime, *, final: bool) -> None:
    """A failed attempt: final for a target that cannot take it, else tried again later, each
    time after twice as long (RETRY_AFTER), until MAX_ATTEMPTS."""
    nudge.attempts += 1
    nudge.error = error
    if final or nudge.attempts >= MAX_ATTEMPTS:
        nudge.status = FAILED
    else:
        nudge.not_before = now + RETRY_AFTER * 2 ** (nudge.attempts - 1)


def delivery_of(nudge: Nudge) -> Delivery:
    """A stored nudge seen as a delivery (for reports of what a sweep did, failures included:
    a payload that is not what `claim` wrote is reported as empty)."""
    payload = nudge.payload if isinstance(nudge.payload, dict) else {}
    return Delivery(
        key=nudge.key,
        kind=nudge.kind,
        level=nudge.level,
        channel=nudge.channel or "",
        recipients=tuple(nudge.recipients or ()),
        not_before=nudge.not_before,
        initiative_id=nudge.initiative_id,
        pair_id=nudge.pair_id,
        functions=tuple(payload.get("functions", ())),
        payload=payload,
    )
