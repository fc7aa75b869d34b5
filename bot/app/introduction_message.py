"""The introduction as a message the hub owes (kind `introduction` of the outbox, sent by
bot/app/outbox.py): rendered when it is sent, in a group DM opened then for both functions'
leads, and only at a moment that is working time for every one of them.

Before sending, it is asked again whether it is still deserved: a function no longer
configured, or a pair that started an initiative together meanwhile, cancels it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.app import owed
from bot.app.hub import Hub
from bot.app.people import zone_of
from bot.app.port import ErrorKind, Result
from bot.core import digest
from bot.core import introductions as intros
from bot.core import outbox as box
from bot.core.calendar import WorkWeek
from bot.core.pairs import ordered_pair
from bot.models import Introduction, Outbox

INTRODUCTION = "introduction"


class WaitUntil(owed.Wait):
    """Not a working moment for every recipient: look again when it is."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until)


def introduction_key(introduction_id: int) -> str:
    return f"introduction:{introduction_id}"


def owe_introduction(session: Session, introduction: Introduction, now: datetime) -> str:
    """Owed from the recipients' next common working moment: recorded as of then, so that
    its day of retries (before it is given up and told) starts when it may first be sent."""
    key = introduction_key(introduction.id)
    box.record(session, key, INTRODUCTION, max(now, introduction.not_before), introduction=introduction.id)
    return key


def _introduction(session: Session, row: Outbox) -> Introduction:
    introduction = session.get(Introduction, (row.payload or {}).get("introduction"))
    if introduction is None:
        raise owed.Fail("the introduction no longer exists")
    return introduction


def _still_never_met(hub: Hub, session: Session, introduction: Introduction, now: datetime) -> bool:
    rows = digest.pair_rows(session, hub.settings, now)
    return any(ordered_pair(*row.functions) == introduction.functions and row.state == digest.NEVER_MET for row in rows)


def _prepare(hub: Hub, session: Session, row: Outbox) -> owed.Message | None:
    introduction = _introduction(session, row)
    now = hub.clock.now()
    if introduction.status != intros.CLAIMED:
        return None
    if any(key not in hub.settings.functions for key in introduction.functions) or not _still_never_met(hub, session, introduction, now):
        introduction.status = intros.CANCELLED
        return None
    people = list(introduction.recipients or ())
    moment = WorkWeek.of(hub.settings.nudges).next_common(now, [zone_of(hub, user) for user in people])
    if moment > now:
        raise WaitUntil(moment)
    opened = hub.gateway.call("conversations.open", users=",".join(people))
    if not opened.ok:
        if opened.kind is ErrorKind.TRANSIENT:
            raise owed.Wait()
        raise owed.Fail(f"the group DM could not be opened: {opened.error}")
    channel = str((opened.get("channel") or {}).get("id") or "")
    text, blocks = hub.render.introduction(introduction, hub.settings, now)
    return owed.Message(channel, text, blocks)


def _sent(hub: Hub, session: Session, row: Outbox, result: Result) -> None:
    introduction = _introduction(session, row)
    introduction.status, introduction.sent_at = intros.SENT, hub.clock.now()
    introduction.channel, introduction.ts = result.get("channel"), result.get("ts")


def _failed(hub: Hub, session: Session, row: Outbox, error: str) -> list[str]:
    """Marked failed, and the admins are told which pair could not be introduced and why."""
    introduction = _introduction(session, row)
    introduction.status = intros.FAILED
    pair = " and ".join(hub.settings.functions[key].name if key in hub.settings.functions else key for key in introduction.functions)
    keys = []
    for admin in hub.settings.hub.admins:
        text = f":warning: The introduction of {pair} could not be sent: {error}."
        keys += owed.owe_notice(session, f"introduction-failed:{introduction.id}:{admin}", admin, text, hub.clock.now())
    return keys


INTRODUCTION_KINDS = {INTRODUCTION: owed.Kind(_prepare, _sent, _failed)}
