"""A reply in an initiative's thread: activity of the author's function(s), and, when it was
written in a function channel's thread, a mirror in the hub thread.

What counts as activity:
- a person's reply in the hub thread of an initiative, or in the thread of one of its routed
  posts, counts once for each function of the author involved in the initiative (kind
  "reply", at the reply's own time). Hub staff act for no function: their replies are
  recorded for nobody, but are still mirrored;
- replies sent to the channel too (`thread_broadcast`) and replies with files (`file_share`)
  count like any reply;
- top-level messages, and replies in threads that belong to no initiative, do not count;
- bot messages never count and are never mirrored: subtype `bot_message`, any `bot_id`, or
  the hub's own bot user. Bolt already drops the hub's own messages (its ignoring_self_events
  middleware); the check here holds even without it, so a mirror can never be mirrored;
- edits (`message_changed`) are not new activity and are not mirrored again; deletions
  (`message_deleted`) do not remove recorded activity (see `ignored.py`).

Each event is handled once: its `event_id` is claimed in the transaction that records the
activity (`core.events.claim`), so a retry or a duplicate delivery is dropped, while a crash
before the commit lets Slack's retry through. The mirror is posted after the commit; if it
fails (hub channel gone), that is logged and the activity stays. A crash between the commit
and the mirror loses that one mirror rather than risking two.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from slack_bolt import BoltContext

from bot.core import activity, events, initiatives
from bot.db import transaction
from bot.runtime import Runtime
from bot.slack import mirror, people
from bot.slack.gateway import InstallBroken

log = logging.getLogger(__name__)

# Subtypes a person's reply may carry; everything else goes to `ignored.py`.
REPLY_SUBTYPES = (None, "thread_broadcast", "file_share")
PRUNE_EVERY = timedelta(hours=1)


def is_person_reply(event: dict, bot_user_id: str | None) -> bool:
    """A reply in a thread, written by a person (not a bot, not the hub itself)."""
    user = event.get("user")
    thread_ts = event.get("thread_ts")
    return (
        event.get("type") == "message"
        and event.get("subtype") in REPLY_SUBTYPES
        and not event.get("bot_id")
        and not event.get("bot_profile")
        and bool(user)
        and user != bot_user_id
        and bool(thread_ts)
        and thread_ts != event.get("ts")  # the thread's parent message itself
    )


@dataclass(frozen=True)
class Mirror:
    """Where a recorded reply is to be copied: the hub thread of its initiative."""

    channel: str
    thread_ts: str


def handle_thread_reply(event: dict, body: dict, context: BoltContext) -> None:
    if not is_person_reply(event, context.bot_user_id):
        return
    hub: Runtime = context["hub"]
    target = record_reply(hub, event, body.get("event_id") or f"{event['channel']}:{event['ts']}")
    if target is not None:
        post_mirror(hub, event, target)
    prune_now_and_then(hub)


def record_reply(hub: Runtime, event: dict, event_id: str) -> Mirror | None:
    """Record the reply once; returns where to mirror it, if anywhere."""
    channel, thread_ts, user = event["channel"], event["thread_ts"], event["user"]
    with hub.sessions() as session:
        if initiatives.by_thread(session, channel, thread_ts) is None:
            return None  # a thread of something else: nothing to record, nothing to claim
    functions = people.functions_of(hub, user)  # Slack calls stay outside the transaction
    at = datetime.fromtimestamp(float(event["ts"]), timezone.utc)
    try:
        with transaction(hub.sessions) as session:
            events.claim(session, event_id, hub.clock.now())
            initiative = initiatives.by_thread(session, channel, thread_ts)
            if initiative is None:
                return None  # deleted meanwhile: the event is handled, with nothing to record
            activity.record(session, initiative, user, functions, "reply", at, ref=f"{channel}:{event['ts']}")
            in_hub_thread = (channel, thread_ts) == (initiative.hub_channel, initiative.hub_ts)
            if in_hub_thread or not initiative.hub_ts or not hub.settings.hub.mirror_replies:
                return None
            return Mirror(initiative.hub_channel, initiative.hub_ts)  # type: ignore[arg-type]
    except events.AlreadyProcessed:
        log.info("event %s (reply %s in %s) was already handled: dropped", event_id, event["ts"], channel)
        return None


def post_mirror(hub: Runtime, event: dict, target: Mirror) -> None:
    channel, user, text = event["channel"], event["user"], event.get("text") or ""
    files = len(event.get("files") or [])
    try:
        info = hub.directory.user(user)
        author = info.name if info else user
        link = hub.gateway.permalink(channel, event["ts"]) if mirror.needs_permalink(author, channel, text, files) else None
        fallback, blocks = mirror.mirror_message(author, channel, text, permalink=link, files=files)
        posted = hub.gateway.post_message(target.channel, fallback, blocks, thread_ts=target.thread_ts)
    except InstallBroken:
        return  # logged by the gateway; the activity is recorded
    if not posted.ok:
        log.warning("the reply %s in %s could not be mirrored to %s: %s", event["ts"], channel, target.channel, posted.error)


_pruned: dict[str, datetime] = {}
_prune_lock = threading.Lock()


def prune_now_and_then(hub: Runtime) -> None:
    """Forget old event claims, at most once an hour per database and process."""
    now = hub.clock.now()
    key = hub.settings.database_url
    with _prune_lock:
        last = _pruned.get(key)
        if last is not None and now - last < PRUNE_EVERY:
            return
        _pruned[key] = now
    try:
        with transaction(hub.sessions) as session:
            removed = events.prune(session, now)
        if removed:
            log.info("forgot %s handled events older than %s", removed, events.RETENTION)
    except Exception:  # housekeeping must never cost a reply
        log.exception("pruning processed events failed")
