"""What the hub owes, by kind: how each message is recorded (`owe_*`, inside the use case's
transaction), what it waits for, how it is rendered when sent, and what its success or failure
changes. bot/app/outbox.py sends them.

Each message is rendered when it is sent, from what the database says then, so a late message
is never stale. Routed posts wait for the hub card, whose thread they link to; the proposer's
confirmation waits for the routes (at most two minutes); a failed route tells the proposer
and the admins how to fix it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.app import audience
from bot.app.hub import Hub
from bot.app.port import Result, SlackUnavailable
from bot.core import outbox as box
from bot.core.audience import Barrier
from bot.models import Commitment, CommitmentChange, Initiative, InitiativeFunction, Outbox

CARD, ROUTE, CONFIRMATION, ROUTE_FAILURES = "card", "route", "confirmation", "route_failures"
COMMITMENT, COMMITMENT_UPDATE, ANNOUNCEMENT = "commitment", "commitment_update", "announcement"
CARD_UPDATE, STATUS_LINE, MIRROR, REPLY_NOTE = "card_update", "status_line", "mirror", "reply_note"
NOTICE = "notice"  # a DM to one person: what became of a form they sent, when only later known
CONFIRM_WITHIN = timedelta(minutes=2)  # the proposer hears back by then, routes delivered or not


def confirmation_key(initiative_id: int) -> str:
    return f"confirmation:{initiative_id}"


def card_key(initiative_id: int) -> str:
    return f"card:{initiative_id}"


def commitment_key(commitment_id: int) -> str:
    return f"commitment:{commitment_id}"


# --- recording what is owed (inside the use case's transaction) ---------------------------------


def owe_delivery(session: Session, initiative: Initiative, now: datetime) -> list[str]:
    """The hub card, one routed post per function, and the proposer's confirmation."""
    keys = [card_key(initiative.id)]
    box.record(session, keys[0], CARD, now, initiative_id=initiative.id)
    for involved in initiative.functions:
        key = f"route:{initiative.id}:{involved.function_key}"
        box.record(session, key, ROUTE, now, initiative_id=initiative.id, function=involved.function_key)
        keys.append(key)
    key = confirmation_key(initiative.id)
    box.record(session, key, CONFIRMATION, now, initiative_id=initiative.id)
    return [*keys, key]


def owe_commitment(session: Session, commitment: Commitment, now: datetime) -> list[str]:
    key = commitment_key(commitment.id)
    box.record(session, key, COMMITMENT, now, initiative_id=commitment.initiative_id, commitment=commitment.id)
    return [key]


def owe_change(session: Session, change: CommitmentChange, initiative_id: int, now: datetime) -> list[str]:
    """The commitment's message updated in place, and the change announced in the thread."""
    update_key = f"commitment-update:{change.commitment_id}:{change.id}"
    box.record(session, update_key, COMMITMENT_UPDATE, now, initiative_id=initiative_id, commitment=change.commitment_id)
    announce_key = f"announcement:{change.id}"
    box.record(session, announce_key, ANNOUNCEMENT, now, initiative_id=initiative_id, change=change.id, commitment=change.commitment_id)
    return [update_key, announce_key]


def owe_notice(session: Session, key: str, user: str, text: str, now: datetime, *, initiative_id: int | None = None) -> list[str]:
    """Tell `user` something in a DM, once for `key` (e.g. why a form they sent was refused)."""
    box.record(session, f"notice:{key}", NOTICE, now, initiative_id=initiative_id, user=user, text=text)
    return [f"notice:{key}"]


def owe_status(session: Session, initiative_id: int, user: str, status: str, now: datetime) -> list[str]:
    moment = f"{now.timestamp():.6f}"
    keys = [f"card-update:{initiative_id}:{moment}", f"status-line:{initiative_id}:{moment}"]
    box.record(session, keys[0], CARD_UPDATE, now, initiative_id=initiative_id)
    box.record(session, keys[1], STATUS_LINE, now, initiative_id=initiative_id, user=user, status=status)
    return keys


def owe_refresh(session: Session, initiative_ids: list[int], commitment_ids: list[int], now: datetime) -> list[str]:
    """The hub cards and commitment messages rendered again, in place (after a person was forgotten)."""
    moment = f"{now.timestamp():.6f}"
    keys = []
    for initiative_id in initiative_ids:
        keys.append(f"card-update:{initiative_id}:{moment}")
        box.record(session, keys[-1], CARD_UPDATE, now, initiative_id=initiative_id)
    for commitment_id in commitment_ids:
        commitment = session.get(Commitment, commitment_id)
        if commitment is not None:
            keys.append(f"commitment-update:{commitment_id}:{moment}")
            box.record(session, keys[-1], COMMITMENT_UPDATE, now, initiative_id=commitment.initiative_id, commitment=commitment_id)
    return keys


def owe_mirror(session: Session, event_id: str, initiative_id: int, now: datetime, **reply: Any) -> list[str]:
    key = f"mirror:{event_id}"
    box.record(session, key, MIRROR, now, initiative_id=initiative_id, **reply)
    return [key]


def owe_reply_note(session: Session, initiative_id: int, channel: str, barrier: Barrier, day: date, now: datetime) -> list[str]:
    """In place of a reply that may not be copied: one line a day per channel, without its words."""
    key = f"reply-note:{initiative_id}:{channel}:{day.isoformat()}"
    box.record(session, key, REPLY_NOTE, now, initiative_id=initiative_id, channel=channel, barrier=barrier.value)
    return [key]


# --- what each kind sends, waits for and changes ----------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file to share (files_upload_v2): its bytes, name, title and the picture in words."""

    data: bytes
    filename: str
    title: str
    alt_text: str


@dataclass(frozen=True)
class Message:
    """What one attempt sends: a post (or, with `update_ts`, an edit of an earlier message; with
    `upload`, a file shared in the channel, `text` unused)."""

    channel: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    update_ts: str | None = None
    join: bool = False  # a public channel the bot is not in is joined first
    findable: bool = True  # a channel post, findable by its key after a crash; not a DM
    upload: Upload | None = None


class Wait(Exception):
    """What this message follows is not out yet (look again at `until`, else soon)."""

    def __init__(self, until: datetime | None = None) -> None:
        super().__init__()
        self.until = until


class Fail(Exception):
    """This message can never be sent; the reason is recorded and told."""


Prepare = Callable[[Hub, Session, Outbox], Message | None]
Effect = Callable[[Hub, Session, Outbox, Result], None]


def _initiative(session: Session, row: Outbox) -> Initiative:
    # The row alone: each kind reads what it needs of the initiative (a card its functions and
    # pairs, a route one function, a sent card two columns) as it reads it.
    initiative = session.get(Initiative, row.initiative_id) if row.initiative_id is not None else None
    if initiative is None:
        raise Fail("the initiative no longer exists")
    return initiative


def _after(session: Session, *keys: str) -> None:
    if any(box.status_of(session, key) == box.PENDING for key in keys):
        raise Wait()


def _hub_link(hub: Hub, initiative: Initiative) -> str | None:
    if not (initiative.hub_channel and initiative.hub_ts):
        return None
    return hub.gateway.permalink(initiative.hub_channel, initiative.hub_ts)


def _thread(hub: Hub, initiative: Initiative) -> tuple[str, str | None]:
    return initiative.hub_channel or hub.settings.hub.channel, initiative.hub_ts


def _prepare_card(hub: Hub, session: Session, row: Outbox) -> Message | None:
    text, blocks = hub.render.card(_initiative(session, row), hub.settings)
    return Message(hub.settings.hub.channel, text, blocks, join=True)


def _card_sent(hub: Hub, session: Session, row: Outbox, result: Result) -> None:
    initiative = _initiative(session, row)
    initiative.hub_channel, initiative.hub_ts = result["channel"], result["ts"]
    if initiative.status == "proposed":
        initiative.status = "active"


def _route_of(session: Session, row: Outbox) -> InitiativeFunction:
    initiative = _initiative(session, row)
    found = next((f for f in initiative.functions if f.function_key == (row.payload or {}).get("function")), None)
    if found is None:
        raise Fail("the function is no longer part of the initiative")
    return found


def _prepare_route(hub: Hub, session: Session, row: Outbox) -> Message | None:
    initiative = _initiative(session, row)
    _after(session, card_key(initiative.id))
    involved = _route_of(session, row)
    function = hub.settings.functions.get(involved.function_key)
    if function is None:
        raise Fail("function no longer configured")
    text, blocks = hub.render.routed_post(initiative, involved, hub.settings, _hub_link(hub, initiative))
    return Message(function.channel, text, blocks, join=True)


def _route_sent(hub: Hub, session: Session, row: Outbox, result: Result) -> None:
    involved = _route_of(session, row)
    involved.route_status, involved.route_error = "posted", None
    involved.route_channel, involved.route_ts = result["channel"], result["ts"]


def _route_failed(hub: Hub, session: Session, row: Outbox, error: str) -> list[str]:
    """The route is marked failed, and the proposer and the admins will be told how to fix it."""
    involved = _route_of(session, row)
    involved.route_status, involved.route_error = "failed", error
    initiative = _initiative(session, row)
    keys = []
    for person in dict.fromkeys(user for user in (initiative.proposer, *hub.settings.hub.admins) if user):
        keys.append(f"route-failures:{initiative.id}:{person}")
        box.record(session, keys[-1], ROUTE_FAILURES, hub.clock.now(), initiative_id=initiative.id, user=person)
    return keys


def _delivery_settled(hub: Hub, session: Session, row: Outbox) -> Initiative:
    initiative = _initiative(session, row)
    if box.pending_for(session, initiative.id, (CARD, ROUTE)) and hub.clock.now() - row.created_at < CONFIRM_WITHIN:
        raise Wait()
    return initiative


def _prepare_confirmation(hub: Hub, session: Session, row: Outbox) -> Message | None:
    initiative = _delivery_settled(hub, session, row)
    links = {
        involved.function_key: link
        for involved in initiative.functions
        if involved.route_channel and involved.route_ts and (link := hub.gateway.permalink(involved.route_channel, involved.route_ts))
    }
    note = (row.payload or {}).get("sponsor_problem")
    if initiative.proposer is None:
        return None  # the proposer was forgotten: nobody to confirm to
    text, blocks = hub.render.confirmation(initiative, hub.settings, _hub_link(hub, initiative), links, sponsor_problem=note)
    return Message(initiative.proposer, text, blocks, findable=False)


def _prepare_route_failures(hub: Hub, session: Session, row: Outbox) -> Message | None:
    initiative = _delivery_settled(hub, session, row)
    failed = [involved for involved in initiative.functions if involved.route_status == "failed"]
    if not failed:
        return None
    text, blocks = hub.render.route_failures(initiative, failed, hub.settings, _hub_link(hub, initiative))
    return Message(str((row.payload or {}).get("user")), text, blocks, findable=False)


def _commitment(session: Session, row: Outbox) -> Commitment:
    commitment = session.get(Commitment, (row.payload or {}).get("commitment"))
    if commitment is None:
        raise Fail("the commitment no longer exists")
    return commitment


def _prepare_commitment(hub: Hub, session: Session, row: Outbox) -> Message | None:
    commitment = _commitment(session, row)
    _after(session, card_key(commitment.initiative_id))
    channel, thread_ts = _thread(hub, commitment.initiative)
    text, blocks = hub.render.commitment(commitment, hub.settings)
    return Message(channel, text, blocks, thread_ts=thread_ts)


def _commitment_sent(hub: Hub, session: Session, row: Outbox, result: Result) -> None:
    commitment = _commitment(session, row)
    commitment.hub_channel, commitment.hub_ts = result["channel"], result["ts"]


def _prepare_commitment_update(hub: Hub, session: Session, row: Outbox) -> Message | None:
    commitment = _commitment(session, row)
    _after(session, commitment_key(commitment.id))
    if not (commitment.hub_channel and commitment.hub_ts):
        return None  # its message never went out: the announcement says what changed
    text, blocks = hub.render.commitment(commitment, hub.settings)
    return Message(commitment.hub_channel, text, blocks, update_ts=commitment.hub_ts)


def _prepare_announcement(hub: Hub, session: Session, row: Outbox) -> Message | None:
    commitment = _commitment(session, row)
    _after(session, card_key(commitment.initiative_id), commitment_key(commitment.id))
    change = session.get(CommitmentChange, (row.payload or {}).get("change"))
    if change is None:
        raise Fail("the change no longer exists")
    channel, thread_ts = _thread(hub, commitment.initiative)
    return Message(channel, hub.render.announcement(change), thread_ts=thread_ts)


def _prepare_card_update(hub: Hub, session: Session, row: Outbox) -> Message | None:
    initiative = _initiative(session, row)
    _after(session, card_key(initiative.id))
    if not (initiative.hub_channel and initiative.hub_ts):
        return None
    text, blocks = hub.render.card(initiative, hub.settings)
    return Message(initiative.hub_channel, text, blocks, update_ts=initiative.hub_ts)


def _prepare_status_line(hub: Hub, session: Session, row: Outbox) -> Message | None:
    initiative = _initiative(session, row)
    _after(session, card_key(initiative.id))
    if not (initiative.hub_channel and initiative.hub_ts):
        return None
    payload = row.payload or {}
    text = hub.render.status_changed(payload.get("user") or None, str(payload.get("status")))
    return Message(initiative.hub_channel, text, thread_ts=initiative.hub_ts)


def _prepare_mirror(hub: Hub, session: Session, row: Outbox) -> Message | None:
    initiative = _initiative(session, row)
    _after(session, card_key(initiative.id))
    if not (initiative.hub_channel and initiative.hub_ts):
        return None
    reply = row.payload or {}
    channel = str(reply.get("channel"))
    try:  # asked again as it is sent: a channel may have become private or shared since
        barrier = audience.barrier(hub, channel, initiative.hub_channel)
    except SlackUnavailable:
        raise Wait() from None
    if barrier is not None:
        _forget_words(row)
        return _reply_note(hub, initiative, channel, barrier.value)
    info = hub.directory.user(str(reply.get("user")))
    author = info.name if info else str(reply.get("user"))
    text, files = str(reply.get("text") or ""), int(reply.get("files") or 0)
    wants_link = hub.render.mirror_needs_permalink(author, channel, text, files)
    thread = str(reply.get("thread_ts") or "") or None
    link = hub.gateway.permalink(channel, str(reply.get("ts")), thread_ts=thread) if wants_link else None
    fallback, blocks = hub.render.mirror(author, channel, text, permalink=link, files=files)
    return Message(initiative.hub_channel, fallback, blocks, thread_ts=initiative.hub_ts)


def _prepare_notice(hub: Hub, session: Session, row: Outbox) -> Message | None:
    payload = row.payload or {}
    return Message(str(payload.get("user")), str(payload.get("text") or ""), findable=False)


def _reply_note(hub: Hub, initiative: Initiative, channel: str, barrier: str) -> Message:
    assert initiative.hub_channel and initiative.hub_ts
    route = next((f for f in initiative.functions if f.route_channel == channel), None)
    function = hub.settings.functions.get(route.function_key) if route is not None else None
    name = function.name if function is not None else "A function"
    return Message(initiative.hub_channel, hub.render.reply_elsewhere(name, barrier), thread_ts=initiative.hub_ts)


def _prepare_reply_note(hub: Hub, session: Session, row: Outbox) -> Message | None:
    initiative = _initiative(session, row)
    _after(session, card_key(initiative.id))
    if not (initiative.hub_channel and initiative.hub_ts):
        return None
    payload = row.payload or {}
    return _reply_note(hub, initiative, str(payload.get("channel")), str(payload.get("barrier")))


def _forget_words(row: Outbox) -> list[str]:
    # The reply's words were kept only to be copied: once copied (or not copyable), they go.
    row.payload = {key: value for key, value in (row.payload or {}).items() if key != "text"}
    return []


def _mirror_sent(hub: Hub, session: Session, row: Outbox, result: Result) -> None:
    _forget_words(row)


@dataclass(frozen=True)
class Kind:
    prepare: Prepare
    sent: Effect | None = None
    failed: Callable[[Hub, Session, Outbox, str], list[str]] | None = None  # what more is owed


KINDS: dict[str, Kind] = {
    CARD: Kind(_prepare_card, _card_sent),
    ROUTE: Kind(_prepare_route, _route_sent, _route_failed),
    CONFIRMATION: Kind(_prepare_confirmation),
    ROUTE_FAILURES: Kind(_prepare_route_failures),
    COMMITMENT: Kind(_prepare_commitment, _commitment_sent),
    COMMITMENT_UPDATE: Kind(_prepare_commitment_update),
    ANNOUNCEMENT: Kind(_prepare_announcement),
    CARD_UPDATE: Kind(_prepare_card_update),
    STATUS_LINE: Kind(_prepare_status_line),
    MIRROR: Kind(_prepare_mirror, _mirror_sent, lambda hub, session, row, error: _forget_words(row)),
    NOTICE: Kind(_prepare_notice),
    REPLY_NOTE: Kind(_prepare_reply_note),
}
