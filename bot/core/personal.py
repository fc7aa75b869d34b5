"""One person's data: everything the hub holds about them (`export`), and its erasure (`forget`).

What names a person: their activity rows; the commitments they own and the changes they made;
the initiatives they proposed or sponsor; a pair they said was blocked; the nudges and digests
they were sent; messages the hub owes or sent that name them (a copy of their reply, a route
failure told to them, a status they set); their cached Slack profile; an event of theirs kept
but not yet handled; and their roles in the configuration, which only an operator can change.

`forget` removes what is theirs alone and anonymises what the organisation keeps: activity
rows are removed (the pairs keep what they need, see bot/core/retention.py); a commitment they
owned stays, owned by its function (owner None); a proposer, sponsor, actor or blocker becomes
None; they leave the recipients of every nudge, and a nudge still waiting for them is
cancelled; keys naming them are renamed by the row's id; text naming them (`<@U…>` in a stored
digest) names nobody. Running it again finds nothing more and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Text, cast, delete, or_, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import events, nudge_claims
from bot.core import outbox as box
from bot.core.people import ERASED
from bot.core.retention import renamed_key
from bot.db import rowcount
from bot.models import Activity, Commitment, CommitmentChange, Initiative, Introduction, Nudge, Outbox, Pair, ProcessedEvent, SlackUser

# The outbox's kinds (bot.app.owed) of a copy of a reply, and of a route failure told to a person.
MIRROR, ROUTE_FAILURES = "mirror", "route_failures"


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def roles(settings: Settings, user: str) -> list[str]:
    """What the configuration says the person is (only an operator can change it)."""
    found = [
        role
        for role, yes in (
            ("hub staff", settings.is_staff(user)),
            ("executive", user in settings.hub.executives),
            ("admin", settings.is_admin(user)),
        )
        if yes
    ]
    for function in settings.functions.values():
        if user in function.leads:
            found.append(f"lead of {function.key}")
        if user in function.members:
            found.append(f"member of {function.key}")
    return found


def _mentioning(column: Any, user: str) -> Any:
    """Rows whose JSON (or text) column names the person somewhere; checked again in Python."""
    return cast(column, Text).like(f"%{user}%")


def _names(value: Any, user: str) -> bool:
    if isinstance(value, str):
        return re.search(rf"(?<![A-Z0-9]){re.escape(user)}(?![A-Z0-9])", value) is not None
    if isinstance(value, dict):
        return any(_names(v, user) for v in value.values())
    if isinstance(value, list):
        return any(_names(v, user) for v in value)
    return False


def _nudges(session: Session, user: str) -> list[Nudge]:
    query = select(Nudge).where(
        or_(Nudge.channel == user, _mentioning(Nudge.recipients, user), Nudge.key.like(f"%{user}%"), _mentioning(Nudge.payload, user))
    )
    return [n for n in session.scalars(query.order_by(Nudge.id)) if n.channel == user or _names([n.recipients, n.key, n.payload], user)]


def _messages(session: Session, user: str) -> list[Outbox]:
    query = select(Outbox).where(or_(Outbox.key.like(f"%{user}%"), _mentioning(Outbox.payload, user)))
    return [row for row in session.scalars(query.order_by(Outbox.id)) if _names([row.key, row.payload], user)]


def _introductions(session: Session, user: str) -> list[Introduction]:
    query = select(Introduction).where(or_(Introduction.answered_by == user, _mentioning(Introduction.recipients, user)))
    return [row for row in session.scalars(query.order_by(Introduction.id)) if row.answered_by == user or _names(row.recipients, user)]


def _pending_events(session: Session, user: str) -> list[ProcessedEvent]:
    query = select(ProcessedEvent).where(ProcessedEvent.status == events.PENDING, _mentioning(ProcessedEvent.payload, user))
    return [row for row in session.scalars(query) if (row.payload or {}).get("user") == user]


def _commitment(c: Commitment) -> dict[str, Any]:
    return {
        "id": c.id,
        "initiative_id": c.initiative_id,
        "from": c.from_function,
        "to": c.to_function,
        "what": c.what,
        "due": _iso(c.due),
        "status": c.status,
        "created_at": _iso(c.created_at),
    }


# --- export ----------------------------------------------------------------------------------


def export(session: Session, settings: Settings, user: str, now: datetime) -> dict[str, Any]:
    """Everything the hub holds about `user`, as one JSON-ready object."""
    profile = session.get(SlackUser, user)
    owned = session.scalars(select(Commitment).where(Commitment.owner == user).order_by(Commitment.id))
    changes = session.scalars(select(CommitmentChange).where(CommitmentChange.actor == user).order_by(CommitmentChange.id))
    proposed_or_sponsored = session.scalars(
        select(Initiative).where(or_(Initiative.proposer == user, Initiative.sponsor == user)).order_by(Initiative.id)
    )
    return {
        "user": user,
        "exported_at": now.isoformat(),
        "roles": roles(settings, user),
        "profile": {"tz": profile.tz, "is_bot": profile.is_bot, "deleted": profile.deleted, "fetched_at": _iso(profile.fetched_at)}
        if profile is not None
        else None,
        "activities": [
            {"initiative_id": a.initiative_id, "function": a.function_key, "kind": a.kind, "ref": a.ref, "at": _iso(a.at)}
            for a in session.scalars(select(Activity).where(Activity.user_id == user).order_by(Activity.at, Activity.id))
        ],
        "commitments": [_commitment(c) for c in owned],
        "requests": [
            _commitment(c)
            for c in session.scalars(
                select(Commitment).where(or_(Commitment.requested_by == user, Commitment.proposed_by == user)).order_by(Commitment.id)
            )
        ],
        "commitment_changes": [
            {
                "commitment_id": c.commitment_id,
                "action": c.action,
                "from_status": c.from_status,
                "to_status": c.to_status,
                "new_due": _iso(c.new_due),
                "reason": c.reason,
                "at": _iso(c.at),
            }
            for c in changes
        ],
        "initiatives": [
            {"id": i.id, "title": i.title, "roles": [role for role in ("proposer", "sponsor") if getattr(i, role) == user]}
            for i in proposed_or_sponsored
        ],
        "pairs_said_blocked": [
            {"initiative_id": p.initiative_id, "functions": list(p.functions)}
            for p in session.scalars(select(Pair).where(Pair.blocked_by == user).order_by(Pair.id))
        ],
        "nudges": [
            {
                "id": n.id,
                "kind": n.kind,
                "level": n.level,
                "initiative_id": n.initiative_id,
                "functions": list((n.payload or {}).get("functions") or []) if isinstance(n.payload, dict) else [],
                "status": n.status,
                "claimed_at": _iso(n.claimed_at),
                "sent_at": _iso(n.sent_at),
            }
            for n in _nudges(session, user)
        ],
        "messages": [
            {
                "kind": row.kind,
                "initiative_id": row.initiative_id,
                "status": row.status,
                "channel": row.channel,
                "ts": row.ts,
                "created_at": _iso(row.created_at),
                "text": (row.payload or {}).get("text"),
            }
            for row in _messages(session, user)
        ],
        "introductions": [
            {
                "functions": list(row.functions),
                "idea": row.idea_title,
                "status": row.status,
                "answer": row.answer if row.answered_by == user else None,
                "claimed_at": _iso(row.claimed_at),
                "sent_at": _iso(row.sent_at),
            }
            for row in _introductions(session, user)
        ],
        "pending_events": len(_pending_events(session, user)),
    }


# --- forget ----------------------------------------------------------------------------------


@dataclass
class Erasure:
    """What `forget` changed; empty when there was nothing left to forget."""

    counts: dict[str, int] = field(default_factory=dict)
    initiatives: set[int] = field(default_factory=set)  # whose card names them: to be updated
    commitments: set[int] = field(default_factory=set)  # whose message names them: to be updated

    def count(self, what: str, number: int) -> None:
        if number:
            self.counts[what] = self.counts.get(what, 0) + number

    def __bool__(self) -> bool:
        return bool(self.counts)


def _scrubbed(value: Any, user: str) -> Any:
    """The value with the person gone: their ID alone becomes None, inside text nobody."""
    if isinstance(value, str):
        if value == user:
            return None
        text = value.replace(f"<@{user}>", "a former colleague")
        return re.sub(rf"(?<![A-Z0-9]){re.escape(user)}(?![A-Z0-9])", "someone", text)
    if isinstance(value, dict):
        return {key: _scrubbed(v, user) for key, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, user) for v in value if v != user]
    return value


def forget(session: Session, user: str, now: datetime, *, copies_kept: frozenset[int] = frozenset()) -> Erasure:
    """Remove or anonymise what the hub holds about `user` (see the module). `copies_kept`: outbox
    rows of copies of their replies still in Slack, which keep naming them so that a later run
    can remove them there."""
    erasure = Erasure()
    erasure.count("activities removed", rowcount(session.execute(delete(Activity).where(Activity.user_id == user))))
    for commitment in session.scalars(select(Commitment).where(Commitment.owner == user)):
        commitment.owner = None
        erasure.commitments.add(commitment.id)
    erasure.count("commitments passed to their function", len(erasure.commitments))
    asked = select(Commitment).where(or_(Commitment.requested_by == user, Commitment.proposed_by == user))
    for commitment in session.scalars(asked):
        # Still a request (asked by somebody): the asker's ID gives way to a mark that names nobody.
        commitment.requested_by = ERASED if commitment.requested_by == user else commitment.requested_by
        commitment.proposed_by = ERASED if commitment.proposed_by == user else commitment.proposed_by
        erasure.commitments.add(commitment.id)
        erasure.count("requests no longer naming who asked or answered", 1)
    for change in session.scalars(select(CommitmentChange).where(CommitmentChange.actor == user)):
        change.actor = None
        erasure.commitments.add(change.commitment_id)
        erasure.count("commitment changes anonymised", 1)
    for initiative in session.scalars(select(Initiative).where(or_(Initiative.proposer == user, Initiative.sponsor == user))):
        for role in ("proposer", "sponsor"):
            if getattr(initiative, role) == user:
                setattr(initiative, role, None)
                erasure.count(f"initiatives no longer naming their {role}", 1)
        erasure.initiatives.add(initiative.id)
    for pair in session.scalars(select(Pair).where(Pair.blocked_by == user)):
        pair.blocked_by = None
        erasure.count("pairs no longer naming who said they were blocked", 1)
    for nudge in _nudges(session, user):
        if nudge.status == nudge_claims.CLAIMED and nudge.channel == user:
            nudge_claims.cancel(nudge, "its recipient's data was erased")
        nudge.recipients = [r for r in nudge.recipients or [] if r != user]
        nudge.channel = None if nudge.channel == user else nudge.channel
        nudge.key = renamed_key(nudge.key, user, nudge.id)
        nudge.payload = _scrubbed(nudge.payload, user)
        erasure.count("nudges and digests anonymised", 1)
    for row in _messages(session, user):
        if row.id in copies_kept:
            continue
        if row.status == box.PENDING and row.kind == MIRROR:
            session.delete(row)  # their words are never copied now
            erasure.count("copies of replies not sent", 1)
            continue
        if row.status == box.PENDING and row.kind == ROUTE_FAILURES and (row.payload or {}).get("user") == user:
            session.delete(row)  # a message to them (a route failure): nobody to tell now
            erasure.count("messages to them not sent", 1)
            continue
        payload = dict(row.payload or {})
        if row.kind == MIRROR:
            payload.pop("text", None)
        row.payload = _scrubbed(payload, user)
        row.key = renamed_key(row.key, user, row.id)
        erasure.count("messages anonymised", 1)
    for introduction in _introductions(session, user):
        introduction.recipients = [r for r in introduction.recipients or [] if r != user]
        introduction.answered_by = ERASED if introduction.answered_by == user else introduction.answered_by
        erasure.count("introductions no longer naming them", 1)
    for event in _pending_events(session, user):
        session.delete(event)
        erasure.count("events not yet handled removed", 1)
    erasure.count("cached Slack profiles removed", rowcount(session.execute(delete(SlackUser).where(SlackUser.user_id == user))))
    return erasure
