"""The outbox: every message the hub owes, recorded in the transaction that decided it.

A message is named once and for all by its key, so recording it again records nothing. It is
sent by whoever takes its lease (a conditional UPDATE: two senders never both take it), with
no database lock held while Slack is called; the outcome is written afterwards. A sender that
dies leaves the lease to expire, and the message is taken again: its sender first looks for it
in Slack (`in_flight`), so a message Slack already accepted is adopted instead of sent twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.db import insert_for, rowcount
from bot.models import Outbox

PENDING, SENT, FAILED = "pending", "sent", "failed"
LEASE = timedelta(seconds=90)
IN_FLIGHT = "in flight"  # the error of a taken message until its outcome is known
GIVE_UP_AFTER = timedelta(days=1)  # transient failures this long become a failure told to people


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s, 40 s, then every minute: Slack back within a minute is caught within one."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 60))


def record(session: Session, key: str, kind: str, now: datetime, *, initiative_id: int | None = None, **payload: Any) -> None:
    statement = (
        insert_for(session)(Outbox)
        .values(
            key=key,
            kind=kind,
            initiative_id=initiative_id,
            payload=payload,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    session.execute(statement)


def due(session: Session, now: datetime, *, keys: Sequence[str] | None = None, limit: int = 100) -> list[int]:
    """Pending messages whose time has come and that nobody holds, oldest first."""
    query = select(Outbox.id).where(
        Outbox.status == PENDING,
        Outbox.next_attempt_at <= now,
        or_(Outbox.lease_until.is_(None), Outbox.lease_until <= now),
    )
    if keys is not None:
        query = query.where(Outbox.key.in_(keys))
    return list(session.scalars(query.order_by(Outbox.id).limit(limit)))


def take(session: Session, outbox_id: int, now: datetime) -> Outbox | None:
    """Lease the message for one attempt; None when someone else holds it or it is done.

    `error` says IN_FLIGHT until the outcome is written: a message taken with that error
    still set was being sent by someone who never said how it went.
    """
    taken = session.execute(
        update(Outbox)
        .where(
            Outbox.id == outbox_id,
            Outbox.status == PENDING,
            or_(Outbox.lease_until.is_(None), Outbox.lease_until <= now),
        )
        .values(lease_until=now + LEASE, attempts=Outbox.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if rowcount(taken) != 1:
        return None
    row = session.get(Outbox, outbox_id, populate_existing=True)
    assert row is not None
    return row


def mark_in_flight(row: Outbox) -> bool:
    """Say the attempt has begun; whether an earlier attempt may have reached Slack."""
    unknown = row.error == IN_FLIGHT
    row.error = IN_FLIGHT
    return unknown


def mark_sent(row: Outbox, now: datetime, *, channel: str | None = None, ts: str | None = None) -> None:
    row.status, row.sent_at, row.error, row.lease_until = SENT, now, None, None
    row.channel, row.ts = channel or row.channel, ts or row.ts


def mark_retry(row: Outbox, now: datetime, error: str) -> bool:
    """A transient failure: try again later. True when it has failed too long and is given up."""
    row.error, row.lease_until = error, None
    if now - row.created_at >= GIVE_UP_AFTER:
        row.status = FAILED
        return True
    row.next_attempt_at = now + backoff(row.attempts)
    return False


def mark_failed(row: Outbox, error: str) -> None:
    row.status, row.error, row.lease_until = FAILED, error, None


def wait(row: Outbox, now: datetime, until: datetime | None = None) -> None:
    """Not ready yet (what it follows is not out): look again soon, without counting an attempt."""
    row.lease_until, row.attempts = None, max(row.attempts - 1, 0)
    row.next_attempt_at = until or now + timedelta(seconds=5)


def annotate(session: Session, key: str, **notes: Any) -> None:
    """Add to what a message not yet sent will say (e.g. a sponsor that could not be kept)."""
    row = session.scalar(select(Outbox).where(Outbox.key == key, Outbox.status == PENDING))
    if row is not None:
        row.payload = {**(row.payload or {}), **notes}


def status_of(session: Session, key: str) -> str | None:
    return session.scalar(select(Outbox.status).where(Outbox.key == key))


def pending_for(session: Session, initiative_id: int, kinds: Sequence[str]) -> int:
    """How many messages of these kinds the initiative still owes."""
    rows = session.scalars(select(Outbox.id).where(Outbox.initiative_id == initiative_id, Outbox.kind.in_(kinds), Outbox.status == PENDING))
    return len(list(rows))
