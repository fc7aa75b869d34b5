"""Handled-once, and never lost once answered: Slack events by their `event_id`.

Slack retries an event it thinks was not received (x-slack-retry-num 1–3) and sometimes
delivers it twice without saying so.

- `store_where`, before Slack is answered: the event goes into `processed_events` as `pending`, with
  what is needed to handle it. If the database cannot take it, the hub answers 5xx and Slack
  retries: an event answered 2xx is in the database.
- `claim`, in the transaction of the event's effects: `pending` becomes `done` (or, for an event
  that was never stored, a `done` row is inserted). A second delivery finds it done and is
  dropped, even when both arrive at once on two replicas; a crash before the commit leaves it
  pending, to be handled again (`stale`) by the scheduler or by Slack's retry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import insert_for, rowcount
from bot.models import ProcessedEvent

# Slack gives up retrying within hours; three days leaves room for a slow operator restart.
RETENTION = timedelta(days=3)
PENDING, DONE = "pending", "done"
RETRY_AFTER = timedelta(minutes=1)  # a pending event this old lost its handler: handle it again
MAX_ATTEMPTS = 5

_STORE: dict[tuple[str, Any], Any] = {}  # the INSERT of `store_where`, by dialect and condition


class AlreadyProcessed(Exception):
    """This event was handled before: the transaction holding the claim must be dropped."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event {event_id} was already handled")
        self.event_id = event_id


def store_where(
    connection: Connection, condition: ColumnElement[bool], event_id: str, payload: dict[str, Any], received_at: datetime, **params: Any
) -> str | None:
    """Keep the event, pending, if `condition` holds (its bind parameters in `params`), in one
    statement. Its status once kept: PENDING (kept now, or kept before and not handled yet),
    DONE (handled already: a retry, a duplicate); None when the condition does not hold."""
    values = {"event_id": event_id, "received_at": received_at, "status": PENDING, "payload": payload, "attempts": 0}
    key = (connection.dialect.name, condition)
    statement = _STORE.get(key)
    if statement is None:  # built once: building costs about as much as running it
        table = ProcessedEvent.__table__
        row = select(*(bindparam(name, type_=table.c[name].type) for name in values)).where(condition)
        statement = _STORE[key] = (
            insert_for(connection)(table)
            .from_select(list(values), row)
            # A duplicate changes nothing, and says where it stands. (On Postgres it waits for
            # a transaction still claiming the same event, which holds no Slack call: briefly.)
            .on_conflict_do_update(index_elements=[table.c.event_id], set_={"status": table.c.status})
            .returning(table.c.status)
        )
    return connection.execute(statement, {**values, **params}).scalar()


def claim(session: Session, event_id: str, received_at: datetime) -> None:
    """Claim `event_id` in the session's transaction, or raise AlreadyProcessed.

    The failed insert leaves the transaction unusable, so the caller lets AlreadyProcessed
    propagate out of the transaction (which rolls it back) rather than carrying on.
    """
    taken = session.execute(
        update(ProcessedEvent)
        .where(ProcessedEvent.event_id == event_id, ProcessedEvent.status == PENDING)
        .values(status=DONE, payload=None)
        .execution_options(synchronize_session=False)
    )
    if rowcount(taken) == 1:
        return
    session.add(ProcessedEvent(event_id=event_id, received_at=received_at, status=DONE, attempts=0))
    try:
        session.flush()
    except IntegrityError as duplicate:
        raise AlreadyProcessed(event_id) from duplicate


def stale(session: Session, now: datetime, limit: int = 100) -> list[tuple[str, dict[str, Any]]]:
    """Events stored but still not handled a while later (their handler died), counted as one
    more attempt each; one that failed MAX_ATTEMPTS times is left for an operator to see."""
    rows = list(
        session.scalars(
            select(ProcessedEvent)
            .where(
                ProcessedEvent.status == PENDING,
                ProcessedEvent.received_at <= now - RETRY_AFTER,
                ProcessedEvent.attempts < MAX_ATTEMPTS,
            )
            .order_by(ProcessedEvent.received_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.attempts += 1
        row.received_at = now  # the next retry waits RETRY_AFTER again
    return [(row.event_id, dict(row.payload or {})) for row in rows]


def prune(session: Session, now: datetime, keep: timedelta = RETENTION) -> int:
    """Forget claims older than `keep`; returns how many were removed."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < now - keep))
    return rowcount(result)
