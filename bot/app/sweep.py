"""The nudge sweep, the same from `cdo-hub nudge`, the scheduler and a nudge button.

A sweep (`run_sweep`) runs in two steps:
1. plan and claim, a batch of due pairs per transaction (bot.core.nudges, bot.core.nudge_claims);
2. send what is claimed and due, one transaction per message: lock, check the pair again,
   check the recipients' working hours, post, mark. One DM per person per sweep: an executive's
   escalations are batched into one message, and a digest waits for the next sweep.
A Slack error for one target is recorded on its nudge and the sweep goes on; a broken install
(InstallBroken) stops the sweep and leaves the claims for a later one. One bad row never stops
a sweep: a pair that cannot be planned is skipped (bot.core.nudges), and a message that raises
is logged, counted as a failed attempt of its nudges and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.app.hub import Hub
from bot.app.people import ZoneBook
from bot.app.port import ErrorKind, InstallBroken
from bot.core import nudge_claims as claims
from bot.core import nudges
from bot.core.calendar import WorkWeek, local_day, local_moment
from bot.core.nudge_claims import Delivery, PairView
from bot.db import transaction
from bot.models import Nudge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Line:
    """One message sent, planned, deferred, cancelled or failed."""

    status: str
    delivery: Delivery
    at: datetime | None = None  # sent at, or deferred until
    ts: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        d = self.delivery
        return {
            "initiative_id": d.initiative_id,
            "functions": list(d.functions),
            "level": d.level,
            "recipients": list(d.recipients),
            "channel": d.channel,
            "kind": d.kind,
            "status": self.status,
            "at": self.at.isoformat() if self.at else None,
            "ts": self.ts,
            "error": self.error,
            "key": d.key,
        }


@dataclass
class SweepReport:
    at: datetime
    dry_run: bool = False
    checked: int = 0
    lines: list[Line] = field(default_factory=list)
    install_error: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)


@contextmanager
def _unit(hub: Hub, dry_run: bool) -> Iterator[Session]:
    """A transaction, or for a dry run a session whose changes are all rolled back."""
    if not dry_run:
        with transaction(hub.sessions) as session:
            yield session
        return
    with hub.sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


def run_sweep(hub: Hub, *, dry_run: bool = False, pair_ids: Sequence[int] | None = None) -> SweepReport:
    """One sweep as of `hub.clock.now()`; `pair_ids` limits it to those pairs (a button)."""
    now = hub.clock.now()
    report = SweepReport(now, dry_run)
    people = ZoneBook(hub, now, store=not dry_run)
    try:
        with hub.sessions() as session:
            people.warm(nudges.people_to_know(session, hub.settings, now))
        after = None
        while True:
            with _unit(hub, dry_run) as session:
                batch = nudges.plan_batch(
                    session, hub.settings, now, people, after=after, pair_ids=pair_ids, lock=not dry_run, fatal=(InstallBroken,)
                )
                planned = batch.deliveries if dry_run else claims.claim(session, batch.deliveries, now)
            report.checked += batch.checked
            for delivery in planned:
                if delivery.not_before > now:
                    report.lines.append(Line("deferred", delivery, delivery.not_before))
                elif dry_run:
                    report.lines.append(Line("planned", delivery))
            if batch.last is None:
                break
            after = batch.last
        if dry_run:
            with hub.sessions() as session:
                for item in claims.pending(session, now, pair_ids=pair_ids):
                    row = session.get(Nudge, item.id)
                    if row is not None:
                        report.lines.append(Line("planned", claims.delivery_of(row)))
        else:
            deliver(hub, now, people, report, pair_ids=pair_ids)
    except InstallBroken as error:
        report.install_error = str(error)
        log.error("the sweep stopped: Slack refused the bot token (%s); claimed nudges wait for a later sweep", error)
    return report


def deliver(
    hub: Hub,
    now: datetime,
    people: ZoneBook,
    report: SweepReport,
    *,
    pair_ids: Sequence[int] | None = None,
    kinds: Sequence[str] | None = None,
) -> None:
    """Send what is claimed and due: a message per pair nudge, one DM per person."""
    with hub.sessions() as session:
        due = claims.pending(session, now, pair_ids=pair_ids)
    messages = [(item.kind, [item.id]) for item in due if item.kind == claims.PAIR]
    direct: dict[str, list[claims.Pending]] = {}
    for item in due:
        if item.kind != claims.PAIR:
            direct.setdefault(item.channel or "", []).append(item)
    for items in direct.values():
        escalations = [item.id for item in items if item.kind == claims.EXECUTIVE]
        # One DM per person per sweep: escalations first, a digest waits for the next sweep.
        messages.append((claims.EXECUTIVE, escalations) if escalations else (items[0].kind, [items[0].id]))
    for kind, ids in messages:
        if kinds is None or kind in kinds:
            try:
                _send(hub, ids, now, people, report)
            except InstallBroken:
                raise
            except Exception as error:
                log.exception("nudges %s could not be sent; skipped", ids)
                _count_attempt(hub, ids, f"{type(error).__name__}: {error}", report)


def _count_attempt(hub: Hub, ids: list[int], error: str, report: SweepReport) -> None:
    """A message that raised costs its nudges an attempt, so a bad row is tried again by a
    few later sweeps (MAX_ATTEMPTS), then left failed rather than tried for ever."""
    with transaction(hub.sessions) as session:
        for row in claims.lock(session, ids):
            claims.mark_failed(row, error[:500], final=False)
            report.lines.append(Line("failed" if row.status == claims.FAILED else "retry", claims.delivery_of(row), error=error))


def _send(hub: Hub, ids: list[int], now: datetime, people: ZoneBook, report: SweepReport) -> None:
    settings = hub.settings
    with transaction(hub.sessions) as session:
        rows = claims.lock(session, ids)
        ready: list[tuple[Nudge, PairView | None]] = []
        for row in rows:
            view = claims.recheck(session, settings, row, now) if row.kind != claims.DIGEST else None
            if row.kind != claims.DIGEST and view is None:
                claims.cancel(row, "the pair moved on before it was sent")
                report.lines.append(Line("cancelled", claims.delivery_of(row)))
                continue
            ready.append((row, view))
        if not ready:
            return
        recipients = list(dict.fromkeys(user for row, _ in ready for user in row.recipients or ()))
        moment = WorkWeek.of(settings.nudges).next_common(now, [people.zone(user) for user in recipients])
        first = ready[0][0]
        if first.kind == claims.EXECUTIVE and moment <= now:
            # At most one nudge DM a person a day of theirs: later ones wait for the next day.
            zone = people.zone(first.channel or "")
            if claims.nudged_on(session, first.channel or "", local_day(now, zone), zone):
                moment = WorkWeek.of(settings.nudges).next_working(
                    local_moment(local_day(now, zone) + timedelta(days=1), time(0), zone), zone
                )
        if moment > now:  # the sweep that planned it ran in working hours, this one does not
            for row, _ in ready:
                claims.defer(row, moment)
                report.lines.append(Line("deferred", claims.delivery_of(row), moment))
            return
        channel, thread_ts, text, blocks = _message(hub, first, ready, people)
        posted = hub.gateway.post_message(channel, text, blocks, thread_ts=thread_ts)
        for row, _ in ready:
            if posted.ok:
                claims.mark_sent(row, posted["ts"], now)
                report.lines.append(Line("sent", claims.delivery_of(row), now, posted["ts"]))
            else:
                claims.mark_failed(row, posted.error or "unknown", final=posted.kind is not ErrorKind.TRANSIENT)
                report.lines.append(Line("failed" if row.status == claims.FAILED else "retry", claims.delivery_of(row), error=posted.error))
        if not posted.ok:
            log.error("nudge %s to %s failed: %s", first.key, channel, posted.error)


def _message(
    hub: Hub, first: Nudge, ready: list[tuple[Nudge, PairView | None]], people: ZoneBook
) -> tuple[str, str | None, str, list[dict]]:
    settings = hub.settings
    if first.kind == claims.DIGEST:
        payload = first.payload or {}
        return first.channel or "", None, payload.get("text", "Weekly digest"), payload.get("blocks", [])
    views = [view for _, view in ready if view is not None]
    if first.kind == claims.PAIR:
        view = views[0]
        text, blocks = hub.render.pair_nudge(view, settings, list(first.recipients or ()))
        return view.hub_channel or settings.hub.channel, view.hub_ts, text, blocks
    links = {view.initiative_id: _thread_link(hub, view) for view in views}
    text, blocks = hub.render.executive_nudge(views, settings, people.zone(first.channel or ""), links)
    return first.channel or "", None, text, blocks


def _thread_link(hub: Hub, view: PairView) -> str | None:
    return hub.gateway.permalink(view.hub_channel, view.hub_ts) if view.hub_channel and view.hub_ts else None
