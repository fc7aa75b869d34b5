"""One nudge message (a pair thread's, an executive's DM, a digest): checked and leased in a
short transaction, posted outside any, and its outcome written in another.

1. `_prepare` locks the place's due nudges, checks each again (a pair that moved on is
   cancelled; one whose recipients are outside their working hours, or an executive already
   sent a nudge DM today, is deferred), leases the rest and commits.
2. Outside any transaction: a nudge that an earlier sender leased and never settled may be in
   Slack already; in a thread it is looked for by its key in the messages' metadata (the hub
   cannot read DMs, so those are sent again). The rest are rendered from fresh facts and
   posted in the channel's turn, all their keys in the message's metadata.
3. `_settle` writes how it went, for the nudges still held under this lease.

A failure of one message (a bad row, a bug) is logged and costs its nudges an attempt; a
refused token gives the lease back and stops the pass (InstallBroken).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.app.hub import Hub
from bot.app.people import ZoneBook
from bot.app.port import ErrorKind, InstallBroken, Result, Turns
from bot.app.sweep_report import Line, SweepReport
from bot.core import nudge_claims as claims
from bot.core.calendar import WorkWeek, local_day, local_moment
from bot.core.nudge_claims import Delivery, PairView
from bot.db import transaction
from bot.models import Initiative, Nudge

if TYPE_CHECKING:
    from bot.app.delivery import Place

log = logging.getLogger(__name__)

POST, CANCEL, DEFER = "post", "cancel", "defer"


@dataclass
class _Prepared:
    """A message's nudges, leased, with what it takes to post it outside the transaction."""

    place: Place
    lease: datetime
    channel: str  # where it is posted: a thread's channel, or the person of a DM
    thread_ts: str | None
    zone: ZoneInfo  # the DM's reader's
    deliveries: dict[int, Delivery] = field(default_factory=dict)  # every leased nudge, for the report
    keys: dict[int, str] = field(default_factory=dict)
    views: dict[int, PairView] = field(default_factory=dict)
    digest: dict[str, Any] | None = None
    to_post: list[int] = field(default_factory=list)
    # Leased nudges an earlier sender never settled: what to do with each if Slack has not got it.
    unknown: dict[int, tuple[str, datetime | None]] = field(default_factory=dict)


def send(hub: Hub, place: Place, now: datetime, people: ZoneBook, report: SweepReport, turns: Turns) -> bool:
    """Send one place's message; True when its channel answered 429 and it is to go again."""
    try:
        prepared = _prepare(hub, place, now, people, report)
    except InstallBroken:
        raise
    except Exception as error:
        log.exception("nudges %s could not be sent; skipped", _count_attempt(hub, place, now, None, error, report))
        return False
    if prepared is None:
        return False
    try:
        found = _found(hub, prepared)
        posted = _post(hub, prepared, found, turns)
    except InstallBroken:
        _give_back(hub, prepared, now, "install broken")
        raise
    except Exception as error:
        log.exception("nudges %s could not be sent; skipped", _count_attempt(hub, place, now, prepared, error, report))
        return False
    try:
        return _settle(hub, prepared, found, posted, now, report)
    except Exception:  # the lease runs out, and the next sender looks for the message first
        log.exception("how nudges %s went could not be recorded; they are looked for in Slack later", sorted(prepared.deliveries))
        return False


def _lock(session: Session, place: Place, now: datetime) -> list[Nudge]:
    if place.ids:
        return claims.lock(session, now, ids=place.ids)
    if place.kind == claims.PAIR:
        return claims.lock(session, now, kind=claims.PAIR, initiative_id=place.initiative_id)
    return claims.lock(session, now, kind=place.kind, channel=place.channel)


def _prepare(hub: Hub, place: Place, now: datetime, people: ZoneBook, report: SweepReport) -> _Prepared | None:
    settings = hub.settings
    week = WorkWeek.of(settings.nudges)
    with transaction(hub.sessions) as session:
        rows = _lock(session, place, now)
        if not rows:
            return None
        zone = people.zone(place.channel) if place.kind != claims.PAIR else settings.tz
        tomorrow = None  # an executive sent a nudge DM today (of theirs) gets the next one tomorrow
        if place.kind == claims.EXECUTIVE and claims.nudged_on(session, place.channel, local_day(now, zone), zone, now):
            tomorrow = week.next_working(local_moment(local_day(now, zone) + timedelta(days=1), time(0), zone), zone)
        channel, thread_ts = place.channel, None
        if place.kind == claims.PAIR:
            initiative = session.get(Initiative, rows[0].initiative_id) if rows[0].initiative_id is not None else None
            channel = (initiative.hub_channel if initiative else None) or settings.hub.channel
            thread_ts = initiative.hub_ts if initiative else None
        prepared = _Prepared(place, now, channel, thread_ts, zone)
        held = []
        for row in rows:
            try:  # one bad row costs its own attempt; the message goes on without it
                with session.begin_nested():
                    view = claims.recheck(session, settings, row, now) if row.kind != claims.DIGEST else None
            except Exception as error:
                log.exception("nudge %s could not be checked; skipped", row.id)
                _failed(row, error, now, report)
                continue
            if row.kind != claims.DIGEST and view is None:
                verdict: tuple[str, datetime | None] = (CANCEL, None)
            else:
                moment = week.next_common(now, [people.zone(user) for user in row.recipients or ()])
                if tomorrow is not None and moment <= now:
                    moment = tomorrow
                verdict = (DEFER, moment) if moment > now else (POST, None)
            if row.error == claims.IN_FLIGHT:  # decided once Slack is asked whether it has it
                prepared.unknown[row.id] = verdict
            elif verdict[0] == CANCEL:
                claims.cancel(row, "the pair moved on before it was sent")
                report.lines.append(Line("cancelled", claims.delivery_of(row)))
                continue
            elif verdict[0] == DEFER and verdict[1] is not None:
                claims.defer(row, verdict[1])
                report.lines.append(Line("deferred", claims.delivery_of(row), verdict[1]))
                continue
            else:
                prepared.to_post.append(row.id)
            held.append(row)
            prepared.deliveries[row.id], prepared.keys[row.id] = claims.delivery_of(row), row.key
            if view is not None:
                prepared.views[row.id] = view
            elif row.kind == claims.DIGEST:
                prepared.digest = row.payload or {}
        if not held:
            return None
        prepared.lease, _ = claims.lease(held, now)
    return prepared


def _found(hub: Hub, prepared: _Prepared) -> dict[int, str]:
    """The ts of each unsettled nudge's message that Slack already has (threads only)."""
    if not prepared.unknown or prepared.place.kind != claims.PAIR or not prepared.thread_ts:
        return {}
    channel = prepared.channel
    if not channel.startswith(("C", "G")):
        info = hub.directory.channel(channel)
        channel = info["id"] if info else channel
    found = {}
    for nudge_id in prepared.unknown:
        ts = hub.gateway.find_posted(channel, prepared.keys[nudge_id], thread_ts=prepared.thread_ts)
        if ts is not None:
            log.info("nudge %s was already in Slack (%s); not sent again", prepared.keys[nudge_id], ts)
            found[nudge_id] = ts
    return found


@dataclass(frozen=True)
class _Posted:
    ids: list[int]
    result: Result


def _post(hub: Hub, prepared: _Prepared, found: dict[int, str], turns: Turns) -> _Posted | None:
    ids = prepared.to_post + [i for i, (verdict, _) in prepared.unknown.items() if verdict == POST and i not in found]
    if not ids:
        return None
    settings, kind = hub.settings, prepared.place.kind
    views = [prepared.views[i] for i in ids if i in prepared.views]
    if kind == claims.PAIR:
        text, blocks = hub.render.pair_nudge(views, settings)
    elif kind == claims.EXECUTIVE:
        links = {view.initiative_id: _thread_link(hub, view) for view in views}
        text, blocks = hub.render.executive_nudge(views, settings, prepared.zone, links)
    else:
        payload = prepared.digest or {}
        text, blocks = payload.get("text", "Weekly digest"), payload.get("blocks", [])
    keys = [prepared.keys[i] for i in ids]
    return _Posted(ids, turns.post(prepared.channel, text, blocks, thread_ts=prepared.thread_ts, keys=keys))


def _thread_link(hub: Hub, view: PairView) -> str | None:
    return hub.gateway.permalink(view.hub_channel, view.hub_ts) if view.hub_channel and view.hub_ts else None


def _settle(hub: Hub, prepared: _Prepared, found: dict[int, str], posted: _Posted | None, now: datetime, report: SweepReport) -> bool:
    again = False
    result = posted.result if posted else None
    with transaction(hub.sessions) as session:
        for row in claims.leased(session, list(prepared.deliveries), prepared.lease):
            delivery = prepared.deliveries[row.id]
            if row.id in found:
                claims.mark_sent(row, found[row.id], now)
                report.lines.append(Line("sent", delivery, now, found[row.id]))
            elif posted is not None and result is not None and row.id in posted.ids:
                again = _record(row, delivery, result, now, report) or again
            else:
                verdict, moment = prepared.unknown[row.id]
                if verdict == DEFER and moment is not None:
                    claims.defer(row, moment)
                    report.lines.append(Line("deferred", delivery, moment))
                else:
                    claims.cancel(row, "the pair moved on before it was sent")
                    report.lines.append(Line("cancelled", delivery))
    if result is not None and not result.ok and not again:
        log.error("nudge message to %s failed: %s", prepared.channel, result.error)
    return again


def _record(row: Nudge, delivery: Delivery, result: Result, now: datetime, report: SweepReport) -> bool:
    """Write how the post went for one of its nudges; True when it is to go again in this pass."""
    if result.ok:
        claims.mark_sent(row, result["ts"], now)
        report.lines.append(Line("sent", delivery, now, result["ts"]))
        return False
    if result.retry_after is not None:  # the channel's turn did not come, or Slack said 429
        claims.release(row, now, result.error)
        return True
    claims.mark_failed(row, result.error or "unknown", now, final=result.kind is not ErrorKind.TRANSIENT)
    report.lines.append(Line("failed" if row.status == claims.FAILED else "retry", delivery, error=result.error))
    return False


def _give_back(hub: Hub, prepared: _Prepared, now: datetime, error: str) -> None:
    """Nothing reached Slack: the nudges are due again (those an earlier sender may have
    posted keep saying so, to be looked for next time)."""
    with transaction(hub.sessions) as session:
        for row in claims.leased(session, list(prepared.deliveries), prepared.lease):
            claims.release(row, now, claims.IN_FLIGHT if row.id in prepared.unknown else error)


def _count_attempt(hub: Hub, place: Place, now: datetime, prepared: _Prepared | None, error: Exception, report: SweepReport) -> list[int]:
    """A message that raised costs its nudges an attempt, so a bad row is tried again by a
    few later passes (MAX_ATTEMPTS), then left failed rather than tried for ever. Their IDs."""
    with transaction(hub.sessions) as session:
        rows = claims.leased(session, list(prepared.deliveries), prepared.lease) if prepared else _lock(session, place, now)
        for row in rows:
            _failed(row, error, now, report)
        return [row.id for row in rows]


def _failed(row: Nudge, error: Exception, now: datetime, report: SweepReport) -> None:
    text = f"{type(error).__name__}: {error}"[:500]
    claims.mark_failed(row, text, now, final=False)
    report.lines.append(Line("failed" if row.status == claims.FAILED else "retry", claims.delivery_of(row), error=text))
