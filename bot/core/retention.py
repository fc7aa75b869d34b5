"""Retention: what the hub keeps about people is kept for `[privacy] activity_retention_days`,
then removed in bounded batches (one transaction each, so no sweep or reply waits long).

- activity rows (a reply, a commitment made or changed, a click), older than the retention:
  removed. What the hub needs of them is already in the pair rows (`pairs.touch` keeps each
  function's last act and the pair's last joint act), so pair states, nudges, the digest and
  the reports read the same after pruning;
- nudges (sent, failed or cancelled) claimed before it: their recipients, their DM target
  and their words are dropped, and a key that names a person is renamed by the row's own id;
  the row stays, so the pairs' nudge counts and the current rounds are unchanged;
- messages the outbox sent (or gave up on) before it: removed; their keys are never recorded
  again once that old;
- cached Slack profiles (time zone, bot, deactivated) not refreshed for that long: removed,
  since the person is no longer in the workspace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, null, select, update
from sqlalchemy.orm import Session

from bot.core import nudge_claims
from bot.core import outbox as box
from bot.db import rowcount
from bot.models import Activity, Nudge, Outbox, SlackUser

BATCH = 500
PERSON_IN_KEY = re.compile(r":[UW][A-Z0-9]{2,}(?=:|$)")


def renamed_key(key: str, user: str | None, row_id: int) -> str:
    """A key that names a person (`pair:12:r3:L2:U0CEO`, `digest:2026-W11:U0CEO`) named by the
    row's id instead: still unique, naming nobody. `user`: only that person; None: anyone."""

    def rename(found: re.Match[str]) -> str:
        return f":~{row_id}" if user is None or found.group(0) == f":{user}" else found.group(0)

    return PERSON_IN_KEY.sub(rename, key)


@dataclass
class Pruned:
    activities: int = 0
    nudges: int = 0
    messages: int = 0
    profiles: int = 0
    more: bool = False  # a batch was full: there may be more to prune now

    def add(self, other: Pruned) -> None:
        self.activities += other.activities
        self.nudges += other.nudges
        self.messages += other.messages
        self.profiles += other.profiles
        self.more = other.more

    @property
    def total(self) -> int:
        return self.activities + self.nudges + self.messages + self.profiles


def prune_batch(session: Session, before: datetime, limit: int = BATCH) -> Pruned:
    """One batch of each kind older than `before`."""
    pruned = Pruned()
    ids = list(session.scalars(select(Activity.id).where(Activity.at < before).order_by(Activity.id).limit(limit)))
    if ids:
        pruned.activities = rowcount(session.execute(delete(Activity).where(Activity.id.in_(ids))))
    old = select(Nudge).where(
        Nudge.claimed_at < before, Nudge.status != nudge_claims.CLAIMED, Nudge.payload.is_not(None)
    )  # a scrubbed nudge has no payload
    nudges = list(session.scalars(old.order_by(Nudge.id).limit(limit)))
    for nudge in nudges:
        nudge.key = renamed_key(nudge.key, None, nudge.id)
        nudge.recipients = []
        if nudge.kind != nudge_claims.PAIR:
            nudge.channel = None  # a DM's target is the person
    if nudges:
        session.flush()
        session.execute(
            update(Nudge).where(Nudge.id.in_([n.id for n in nudges])).values(payload=null()).execution_options(synchronize_session=False)
        )
    pruned.nudges = len(nudges)
    ids = list(
        session.scalars(
            select(Outbox.id).where(Outbox.status.in_((box.SENT, box.FAILED)), Outbox.created_at < before).order_by(Outbox.id).limit(limit)
        )
    )
    if ids:
        pruned.messages = rowcount(session.execute(delete(Outbox).where(Outbox.id.in_(ids))))
    ids = list(session.scalars(select(SlackUser.user_id).where(SlackUser.fetched_at < before).limit(limit)))
    if ids:
        pruned.profiles = rowcount(session.execute(delete(SlackUser).where(SlackUser.user_id.in_(ids))))
    pruned.more = limit in (pruned.activities, pruned.nudges, pruned.messages, pruned.profiles)
    return pruned
