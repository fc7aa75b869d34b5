"""Sending what the hub owes: every message recorded in the outbox (bot/core/outbox.py) goes
out through here, right after the use case that recorded it (the fast path) and again from
the scheduler in `serve` for whatever is still owed (after a crash, a Slack outage, a 429).

What each kind of message says, waits for and changes is in bot/app/owed.py.

- transient errors (429, 5xx, timeouts) are retried with backoff;
- an error of the target (channel archived, bot not invited) fails that message once, and
  the people concerned are told (a failed route: the proposer and the admins);
- a broken token stops the drain; what is owed waits until it works again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.app import digest_picture, owed
from bot.app.hub import Hub
from bot.app.introduction_message import INTRODUCTION_KINDS
from bot.app.owed import Fail, Message, Wait
from bot.app.port import ErrorKind, InstallBroken, Result
from bot.core import outbox as box
from bot.db import transaction
from bot.models import Outbox

log = logging.getLogger(__name__)

KINDS = {**owed.KINDS, **INTRODUCTION_KINDS, **digest_picture.KINDS}


@dataclass
class DrainReport:
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    owed: list[str] = field(default_factory=list)  # recorded while draining (a failure's notices)
    install_error: str | None = None


def drain(hub: Hub, *, keys: Sequence[str] | None = None, limit: int = 200) -> DrainReport:
    """Send what is owed and due (only `keys`, when given), oldest first, until nothing more
    can go now. Never raises for Slack: a broken token ends the drain and is reported."""
    report = DrainReport()
    tried: set[int] = set()
    while True:
        wanted = None if keys is None else [*keys, *report.owed]
        with hub.sessions() as session:
            ids = [i for i in box.due(session, hub.clock.now(), keys=wanted, limit=limit) if i not in tried]
        if not ids:
            return report
        for outbox_id in ids:
            tried.add(outbox_id)
            try:
                _attempt(hub, outbox_id, report)
            except InstallBroken as broken:
                report.install_error = str(broken)
                return report
        if keys is None and len(tried) >= limit:
            return report


def _attempt(hub: Hub, outbox_id: int, report: DrainReport) -> None:
    now = hub.clock.now()
    with transaction(hub.sessions) as session:
        row = box.take(session, outbox_id, now)
        if row is None:
            return  # another sender has it, or it is done
        key, kind = row.key, KINDS[row.kind]
        try:
            message = kind.prepare(hub, session, row)
        except Wait as waiting:
            box.wait(row, now, waiting.until)
            return
        except Fail as failure:
            _fail(hub, session, row, str(failure), report)
            return
        unknown = box.mark_in_flight(row)
        created = row.created_at
    if message is None:
        result = Result(True, {})
    else:
        found = _found(hub, message, key, created) if unknown else None
        try:
            result = found or _send(hub, message, key)
        except InstallBroken:
            with transaction(hub.sessions) as session:
                row = session.get(Outbox, outbox_id)
                if row is not None:  # not an attempt that reached Slack: nothing to look for
                    row.error, row.lease_until, row.next_attempt_at = "install broken", None, hub.clock.now() + timedelta(minutes=1)
            raise
    with transaction(hub.sessions) as session:
        row = session.get(Outbox, outbox_id)
        assert row is not None
        now = hub.clock.now()
        if result.ok:
            if kind.sent is not None and message is not None:
                kind.sent(hub, session, row, result)
            box.mark_sent(row, now, channel=result.get("channel"), ts=result.get("ts"))
            report.sent.append(key)
        elif result.kind is ErrorKind.TRANSIENT:
            if box.mark_retry(row, now, result.error or "unknown"):
                _fail(hub, session, row, f"still failing after a day: {result.error}", report)
            else:
                report.retrying.append(key)
        else:
            _fail(hub, session, row, result.error or "unknown", report)


def _fail(hub: Hub, session: Session, row: Outbox, error: str, report: DrainReport) -> None:
    box.mark_failed(row, error)
    kind = KINDS[row.kind]
    if kind.failed is not None:
        with contextlib.suppress(Fail):  # what it would change is gone already
            report.owed += kind.failed(hub, session, row, error)
    report.failed.append(row.key)
    log.warning("message %s could not be sent: %s", row.key, error)


def _found(hub: Hub, message: Message, key: str, created: datetime) -> Result | None:
    """An earlier attempt may have reached Slack before its sender died: find it there."""
    if message.upload is not None:
        file_id = hub.gateway.find_upload(message.channel, message.upload.filename, oldest=created.timestamp() - 60)
        if file_id is not None:
            log.info("file %s was already in Slack (%s); not uploaded again", key, file_id)
        return Result(True, {"file": file_id}) if file_id else None
    if not message.findable or message.update_ts:
        return None
    channel = message.channel
    if not channel.startswith(("C", "G")):
        found_channel = hub.directory.channel(channel)
        channel = found_channel["id"] if found_channel else channel
    ts = hub.gateway.find_posted(channel, key, thread_ts=message.thread_ts, oldest=created.timestamp() - 60)
    if ts is None:
        return None
    log.info("message %s was already in Slack (%s); not sent again", key, ts)
    return Result(True, {"channel": channel, "ts": ts})


def _send(hub: Hub, message: Message, key: str) -> Result:
    if message.upload is not None:
        upload = message.upload
        return hub.gateway.upload_file(message.channel, upload.data, filename=upload.filename, title=upload.title, alt_text=upload.alt_text)
    if message.update_ts:
        return hub.gateway.update_message(message.channel, message.update_ts, message.text, message.blocks)
    posted = hub.gateway.post_message(message.channel, message.text, message.blocks, thread_ts=message.thread_ts, key=key)
    if posted.ok or posted.error != "not_in_channel" or not message.join:
        return posted
    # A public channel the bot has not joined yet: join it and post once more.
    info = hub.directory.channel(message.channel)
    if not info or info.get("is_private") or info.get("is_archived"):
        return posted
    joined = hub.gateway.join(info["id"])
    if not joined.ok:
        return joined
    hub.directory.forget_channel(message.channel)
    return hub.gateway.post_message(info["id"], message.text, message.blocks, thread_ts=message.thread_ts, key=key)
