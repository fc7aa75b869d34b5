"""Discuss: a reply in an initiative's thread is activity of the author's function(s), and a
reply written in a function channel's thread is mirrored into the hub thread.

What counts as activity:
- a person's reply in the hub thread of an initiative, or in the thread of one of its routed
  posts, counts once for each function of the author involved in the initiative (kind
  "reply", at the reply's own time). Hub staff act for no function: their replies are
  recorded for nobody, but are still mirrored;
- replies sent to the channel too (`thread_broadcast`) and replies with files (`file_share`)
  count like any reply;
- top-level messages, and replies in threads that belong to no initiative, do not count;
- bot messages never count and are never mirrored (the listener filters them out);
- edits are not new activity and are not mirrored again; deletions do not remove activity;
- text never moves into a wider audience (bot.core.audience): a reply in a private channel, or
  in one shared with another organisation, is not copied into the hub thread, and nothing is
  copied into a hub channel shared with another organisation. The hub thread gets one line a
  day per channel saying that the function replied there, without a word of the reply; the
  reply still counts as activity.

Each event is handled once: its `event_id` is claimed in the transaction that records the
activity (`core.events.claim`), so a retry or a duplicate delivery is dropped, while a crash
before the commit lets Slack's retry through. The mirror is posted after the commit; if it
fails, the activity stays and the outbox tries again; the mirror is recorded with the activity,
so a crash between the two loses neither.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DataError, IntegrityError

from bot.app import audience, outbox, owed
from bot.app.hub import Hub
from bot.app.now_and_then import NowAndThen
from bot.app.people import functions_of
from bot.app.port import SlackUnavailable
from bot.core import activity, events, initiatives
from bot.core.calendar import local_day
from bot.core.text import clean
from bot.db import one_statement, transaction

log = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class Reply:
    """A person's reply in a thread, as the listener read it from the event."""

    event_id: str
    channel: str
    thread_ts: str
    ts: str
    user: str
    text: str = ""
    files: int = 0


def receive(hub: Hub, event: Reply) -> bool:
    """Before Slack is answered: keep a reply in an initiative's thread, so that it is handled
    even if this process dies right after the answer. True when it is to be handled (`reply`);
    False for a reply elsewhere (not kept) and for one handled already (a retry, a duplicate).
    Raises when the database cannot be reached, or when the reply waited KEEP_WITHIN for others
    being kept: the caller answers 5xx, and Slack retries.
    Replies arriving at the same moment are kept in one statement (bot.app.batches)."""
    status = hub.batches.run(KEEP, event, lambda replies: keep(hub, replies), alone=of_one_reply, patience=KEEP_WITHIN)
    if status == events.DONE:
        _dropped(event)
    return status == events.PENDING


KEEP = "replies kept"  # their batches in `hub.batches`
# How long a reply waits for others being kept before it is answered 503 (and Slack sends it
# again): within Slack's three seconds.
KEEP_WITHIN = 2.0


def of_one_reply(error: Exception) -> bool:
    """A failure that may come from one reply of a batch (its data), not from the database."""
    return isinstance(error, DataError | IntegrityError)


def keep(hub: Hub, replies: Sequence[Reply]) -> list[str | None]:
    """Keep these replies, where they are in an initiative's thread: the status of each, or
    None for one that is not."""
    incoming = [events.Incoming(r.event_id, asdict(r), {"channel": r.channel, "ts": r.thread_ts}) for r in replies]
    with one_statement(hub.engine) as connection:
        kept = events.store_where(connection, initiatives.is_thread, incoming, hub.clock.now())
    return [kept.get(reply.event_id) for reply in replies]


def catch_up(hub: Hub) -> int:
    """Handle the replies that were kept but whose handler never finished; how many."""
    with transaction(hub.sessions) as session:
        stale = events.stale(session, hub.clock.now())
    for event_id, payload in stale:
        try:
            reply(hub, Reply(**{**payload, "event_id": event_id}))
        except Exception:  # one bad event must not keep the others waiting
            log.exception("event %s could not be handled; it is tried again later", event_id)
    return len(stale)


def reply(hub: Hub, event: Reply) -> None:
    """Record the reply once, mirror it where it belongs, and now and then forget old claims."""
    keys = record_reply(hub, event)
    if keys:
        outbox.drain(hub, keys=keys)
    prune_now_and_then(hub)


def record_reply(hub: Hub, event: Reply) -> list[str]:
    """Record the reply once; returns the outbox key of its mirror (or of the line said in its
    place), if it has one."""
    with hub.sessions() as session:
        found = initiatives.by_thread(session, event.channel, event.thread_ts)
        if found is None:
            return []  # a thread of something else: nothing to record, nothing to claim
        in_hub_thread = (event.channel, event.thread_ts) == (found.hub_channel, found.hub_ts)
        hub_channel = found.hub_channel
    # Slack calls stay outside the transaction.
    functions = functions_of(hub, event.user)
    mirrored = hub.settings.hub.mirror_replies and not in_hub_thread
    try:
        barrier = audience.barrier(hub, event.channel, hub_channel) if mirrored else None
    except SlackUnavailable:
        barrier = None  # the copy is owed as words, and decided when it is sent (it waits for Slack)
    at = datetime.fromtimestamp(float(event.ts), UTC)
    try:
        with transaction(hub.sessions) as session:
            events.claim(session, event.event_id, hub.clock.now())
            initiative = initiatives.by_thread(session, event.channel, event.thread_ts)
            if initiative is None:
                return []  # deleted meanwhile: the event is handled, with nothing to record
            activity.record(session, initiative, event.user, functions, "reply", at, ref=f"{event.channel}:{event.ts}")
            if not mirrored:
                return []
            if barrier is not None:
                # The words stay where they were written: not even kept to be copied later.
                day = local_day(hub.clock.now(), hub.settings.tz)
                return owed.owe_reply_note(session, initiative.id, event.channel, barrier, day, hub.clock.now())
            reply = {
                "user": event.user,
                "channel": event.channel,
                "ts": event.ts,
                "thread_ts": event.thread_ts,
                "text": clean(event.text),
                "files": event.files,
            }
            return owed.owe_mirror(session, event.event_id, initiative.id, hub.clock.now(), **reply)
    except events.AlreadyProcessed:
        _dropped(event)
        return []


def _dropped(event: Reply) -> None:
    log.info("event %s (reply %s in %s) was already handled: dropped", event.event_id, event.ts, event.channel)


_prune = NowAndThen(PRUNE_EVERY)


def prune_now_and_then(hub: Hub) -> None:
    """Forget old event claims, at most once an hour per database and process."""
    now = hub.clock.now()
    key = hub.settings.database_url
    if not _prune.due(key, now):
        return
    try:
        with transaction(hub.sessions) as session:
            removed = events.prune(session, now)
        if removed:
            log.info("forgot %s handled events older than %s", removed, events.RETENTION)
    except Exception:  # housekeeping must never cost a reply
        log.exception("pruning processed events failed")
