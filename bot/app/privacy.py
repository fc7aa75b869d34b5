"""People's data: retention run by the scheduler, and one person's export and erasure
(`cdo-hub privacy export|forget USER`). The rules are in bot/core/retention.py and
bot/core/personal.py; here they get their transactions, their log lines and Slack.

Erasure also reaches into Slack for what the hub itself posted there in the person's name: the
copies of their replies in hub threads are deleted (chat.delete, with a bot token), and the
hub cards and commitment messages that named them are updated through the outbox. A copy that
cannot be deleted now keeps its record, so that running `forget` again deletes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.app import outbox, owed
from bot.app.hub import Hub
from bot.app.now_and_then import NowAndThen
from bot.app.port import InstallBroken
from bot.core import outbox as box
from bot.core import personal, retention
from bot.db import transaction
from bot.models import Outbox

log = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(hours=1)
MAX_BATCHES = 20  # per run: a large backlog is worked off over several runs, never in one long go

_prune = NowAndThen(PRUNE_EVERY)


def prune(hub: Hub, *, batches: int = MAX_BATCHES, limit: int = retention.BATCH) -> retention.Pruned:
    """Remove what is older than the retention, batches of at most `limit` rows of each kind,
    one transaction each."""
    before = hub.clock.now() - timedelta(days=hub.settings.privacy.activity_retention_days)
    total = retention.Pruned()
    for _ in range(batches):
        with transaction(hub.sessions) as session:
            total.add(retention.prune_batch(session, before, limit))
        if not total.more:
            break
    if total.total:
        log.info(
            "retention (%d days): %d activity rows removed, %d nudges anonymised, %d sent messages and %d cached profiles removed",
            hub.settings.privacy.activity_retention_days,
            total.activities,
            total.nudges,
            total.messages,
            total.profiles,
        )
    return total


def prune_now_and_then(hub: Hub) -> None:
    """What the scheduler runs: once an hour per database and process, or at once again while
    the last run left more to do. Never fails the job it runs in."""
    now = hub.clock.now()
    key = hub.settings.database_url
    if not _prune.due(key, now):
        return
    try:
        if prune(hub).more:
            _prune.again(key)
    except Exception:
        log.exception("pruning old personal data failed; the next run tries again")


def export(hub: Hub, user: str) -> dict[str, Any]:
    with hub.sessions() as session:
        found = personal.export(session, hub.settings, user, hub.clock.now())
    log.info("privacy: exported what the hub holds about %s", user)
    return found


@dataclass
class Forgotten:
    """What `forget` did, and what it could not do yet."""

    user: str
    counts: dict[str, int] = field(default_factory=dict)
    copies_deleted: int = 0
    copies_left: list[tuple[str, str]] = field(default_factory=list)  # (channel, ts) still in Slack
    roles: list[str] = field(default_factory=list)  # in the configuration: an operator removes them

    @property
    def changed(self) -> bool:
        return bool(self.counts or self.copies_deleted)


def forget(hub: Hub, user: str) -> Forgotten:
    """Remove or anonymise what the hub holds about `user`; idempotent, logged once."""
    report = Forgotten(user, roles=personal.roles(hub.settings, user))
    kept = _delete_copies(hub, user, report)
    with transaction(hub.sessions) as session:
        erasure = personal.forget(session, user, hub.clock.now(), copies_kept=kept)
        keys = owed.owe_refresh(session, sorted(erasure.initiatives), sorted(erasure.commitments), hub.clock.now())
    report.counts = erasure.counts
    if keys and hub.settings.slack.bot_token:
        outbox.drain(hub, keys=keys)  # else `serve` sends them
    if report.changed:
        done = ", ".join(f"{number} {what}" for what, number in report.counts.items())
        deleted = f", {report.copies_deleted} copies of their replies deleted from Slack" if report.copies_deleted else ""
        log.info("privacy: forgot %s: %s%s", user, done or "nothing in the database", deleted)
    return report


def _delete_copies(hub: Hub, user: str, report: Forgotten) -> frozenset[int]:
    """Delete from Slack the copies of the person's replies the hub posted; the outbox ids of
    those still there (no token, or Slack refused), whose records are kept for another run."""
    with hub.sessions() as session:
        rows = session.scalars(select(Outbox).where(Outbox.kind == owed.MIRROR, Outbox.status == box.SENT, Outbox.ts.is_not(None)))
        copies = [(row.id, str(row.channel), str(row.ts)) for row in rows if (row.payload or {}).get("user") == user]
    left = set()
    for row_id, channel, ts in copies:
        deleted = False
        if hub.settings.slack.bot_token:
            try:
                result = hub.gateway.call("chat.delete", channel=channel, ts=ts)
            except InstallBroken:
                result = None
            deleted = result is not None and (result.ok or result.error == "message_not_found")
        if deleted:
            report.copies_deleted += 1
        else:
            left.add(row_id)
            report.copies_left.append((channel, ts))
    return frozenset(left)
