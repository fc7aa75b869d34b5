"""Handled-once, and never lost once answered: Slack events by their `event_id`.

Slack retries an event it thinks was not received (x-slack-retry-num 1–3) and sometimes
delivers it twice without saying so.

- `store_where`, before Slack is answered: the event goes into `processed_events` as `pending`, with
  what is needed to handle it (in one statement with those arriving at the same moment). If the
  database cannot take it, the hub answers 5xx and Slack retries: an event answered 2xx is in
  the database.
- `claim`, in the transaction of the event's effects: `pending` becomes `done` (or, for an event
  that was never stored, a `done` row is inserted). A second delivery finds it done and is
  dropped, even when both arrive at once on two replicas; a crash before the commit leaves it
  pending, to be handled again (`stale`) by the scheduler or by Slack's retry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, delete, literal, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import insert_for, rowcount
from bot.models import ProcessedEvent

# Slack gives up retrying within hours; three days leaves room for a slow operator restart.
RETENTION = timedelta(days=3)
PENDING, DONE = "pending", "done"
RETRY_AFTER = timedelta(minutes=1)  # a pending event this old lost its handler: handle it again
MAX_ATTEMPTS = 5

_STORE: dict[tuple[Any, ...], Any] = {}  # the INSERTs of `store_where`, by dialect, condition, place and count


class AlreadyProcessed(Exception):
    """This event was handled before: the transaction holding the claim must be dropped."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event {event_id} was already handled")
        self.event_id = event_id


@dataclass(frozen=True)
class Incoming:
    """An event to keep: its payload, and the values (`place`) its condition is asked about."""

    event_id: str
    payload: dict[str, Any]
    place: Mapping[str, str]


def store_where(
    connection: Connection, condition: Callable[..., ColumnElement[bool]], incoming: Sequence[Incoming], received_at: datetime
) -> dict[str, str]:
    """Keep each event, pending, whose place meets `condition` (called with a column for each
    name of the place), in one statement for all of them. Each kept event's status by its
    event_id: PENDING (kept now, or kept before and not handled yet) or DONE (handled already:
    a retry, a duplicate); an event whose place does not meet the condition is not there."""
    # A retry beside its original: once. In the order of their IDs, so that two replicas
    # keeping the same events lock them in the same order (Postgres), never in a deadlock.
    unique = sorted({event.event_id: event for event in incoming}.values(), key=lambda event: event.event_id)
    if not unique:
        return {}
    names = tuple(unique[0].place)
    key = (connection.dialect.name, condition, names, len(unique))
    statement = _STORE.get(key)
    if statement is None:  # built once for each number of events: building costs about as much as running it
        statement = _STORE[key] = _store_statement(connection, condition, names, len(unique))
    values: dict[str, Any] = {"received_at": received_at}
    for n, event in enumerate(unique):
        values |= {f"event_id_{n}": event.event_id, f"payload_{n}": event.payload}
        values |= {f"{name}_{n}": event.place[name] for name in names}
    return {event_id: status for event_id, status in connection.execute(statement, values)}


def _store_statement(connection: Connection, condition: Callable[..., ColumnElement[bool]], names: tuple[str, ...], count: int) -> Any:
    """INSERT … SELECT from one row of bind parameters per event, where the condition holds;
    a duplicate changes nothing and says where it stands. (On Postgres it waits for a
    transaction still claiming the same event, which holds no Slack call: briefly.)"""
    table = ProcessedEvent.__table__
    string = table.c.event_id.type
    rows = union_all(
        *(
            select(
                bindparam(f"event_id_{n}", type_=string).label("event_id"),
                bindparam(f"payload_{n}", type_=table.c.payload.type).label("payload"),
                *(bindparam(f"{name}_{n}", type_=string).label(name) for name in names),
            )
            for n in range(count)
        )
    ).subquery("incoming")
    kept = select(
        rows.c.event_id, bindparam("received_at", type_=table.c.received_at.type), literal(PENDING), rows.c.payload, literal(0)
    ).where(condition(**{name: rows.c[name] for name in names}))
    return (
        insert_for(connection)(table)
        .from_select(["event_id", "received_at", "status", "payload", "attempts"], kept)
        .on_conflict_do_update(index_elements=[table.c.event_id], set_={"status": table.c.status})
        .returning(table.c.event_id, table.c.status)
    )


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
