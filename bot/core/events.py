"""Handled-once: every Slack event that changes something is claimed by its `event_id`.

Slack retries an event it thinks was not received (x-slack-retry-num 1–3) and sometimes
delivers it twice without saying so. The claim is an insert into `processed_events` in the
same transaction as the event's effects: a second delivery fails on the primary key and is
dropped, even when both arrive at once, and a crash before the commit leaves no claim behind,
so Slack's retry is let through.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import rowcount
from bot.models import ProcessedEvent

# Slack gives up retrying within hours; three days leaves room for a slow operator restart.
RETENTION = timedelta(days=3)


class AlreadyProcessed(Exception):
    """This event was handled before: the transaction holding the claim must be dropped."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event {event_id} was already handled")
        self.event_id = event_id


def claim(session: Session, event_id: str, received_at: datetime) -> None:
    """Claim `event_id` in the session's transaction, or raise AlreadyProcessed.

    The failed insert leaves the transaction unusable, so the caller lets AlreadyProcessed
    propagate out of the transaction (which rolls it back) rather than carrying on.
    """
    session.add(ProcessedEvent(event_id=event_id, received_at=received_at))
    try:
        session.flush()
    except IntegrityError as duplicate:
        raise AlreadyProcessed(event_id) from duplicate


def prune(session: Session, now: datetime, keep: timedelta = RETENTION) -> int:
    """Forget claims older than `keep`; returns how many were removed."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < now - keep))
    return rowcount(result)
