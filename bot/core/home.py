"""What one person's App Home shows, read from the database as plain values.

- the open initiatives they are part of: as proposer, sponsor, owner of a commitment, or
  through a function they belong to (`activity.functions_of`: leads and members from the
  configuration, and the members of the function's channel);
- the live commitments they owe (bot.core.rules): overdue, due soon and due later, by due date
  in their own calendar, and apart from these the blocked ones, which wait on someone else;
  the requests asked of their functions and waiting for an answer (`rules.request`); and the
  live commitments owed to their functions;
- only what the person may see (`audience.Viewer`): with a private hub channel, someone outside
  it sees only the initiatives of their functions and those they proposed or sponsor;
- for executives and hub staff, the function × function matrix of the digest
  (`digest.pair_rows`): each pair's joint initiatives, its open, overdue and done
  commitments, when it last met and its state.

Lists are limited when read and counted separately, so the tab stays small however much
there is. Nothing here knows Slack.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import digest, obstacles, rules
from bot.core.audience import Viewer
from bot.core.listing import Listed
from bot.models import Commitment, Initiative, InitiativeFunction

SHOWN = 10  # items read per list; the rest are counted


@dataclass(frozen=True)
class InitiativeItem:
    id: int
    title: str
    status: str
    functions: tuple[str, ...]
    roles: tuple[str, ...]  # "proposer", "sponsor", "commitment owner", or a function key


@dataclass(frozen=True)
class CommitmentItem:
    id: int
    initiative_id: int
    initiative_title: str
    from_function: str
    to_function: str
    owner: str | None  # None for a request nobody has accepted, or an owner forgotten
    what: str
    due: date
    status: str
    requested_by: str | None = None
    proposed_due: date | None = None  # another date offered, waiting for the asker


@dataclass(frozen=True)
class HomeData:
    user: str
    today: date
    functions: tuple[str, ...]
    initiatives: Listed = Listed()
    overdue: Listed = Listed()
    due_soon: Listed = Listed()
    later: Listed = Listed()
    blocked: Listed = Listed()  # owed by the person, waiting on someone else: never overdue
    asked_of_me: Listed = Listed()  # requests to one of the person's functions, not answered yet
    owed_to_me: Listed = Listed()  # owed to one of the person's functions, by someone else
    matrix: tuple[digest.PairRow, ...] | None = None  # None: not an executive or hub staff
    roles: tuple[str, ...] = ()  # "executive", "hub staff", "admin"
    obstacles: tuple[obstacles.ObstacleRow, ...] | None = None  # None: leads no function that owns one
    at: datetime | None = None  # when it was read, aware UTC (ages the obstacles)


def sees_matrix(user_id: str, settings: Settings) -> bool:
    return user_id in settings.hub.executives or settings.is_staff(user_id)


def gather(
    session: Session, settings: Settings, user_id: str, functions: Iterable[str], today: date, now: datetime, viewer: Viewer | None = None
) -> HomeData:
    """`today` is the person's own day (for due dates); `now`, aware UTC, dates the matrix;
    `viewer` says what they may see (everything when not given)."""
    functions = tuple(dict.fromkeys(functions))
    seen = viewer.condition() if viewer is not None else true()
    mine = and_(Commitment.owner == user_id, seen)
    roles = tuple(
        role
        for role, yes in (
            ("executive", user_id in settings.hub.executives),
            ("hub staff", settings.is_staff(user_id)),
            ("admin", settings.is_admin(user_id)),
        )
        if yes
    )
    return HomeData(
        user=user_id,
        today=today,
        functions=functions,
        initiatives=_initiatives(session, user_id, functions, seen),
        overdue=_commitments(session, mine, rules.overdue(today)),
        due_soon=_commitments(session, mine, rules.due_soon(today)),
        later=_commitments(session, mine, rules.due_later(today)),
        blocked=_commitments(session, mine, rules.blocked()),
        asked_of_me=_commitments(session, rules.request(), Commitment.from_function.in_(functions), seen) if functions else Listed(),
        owed_to_me=_commitments(session, rules.live(), Commitment.to_function.in_(functions), Commitment.owner != user_id, seen)
        if functions
        else Listed(),
        matrix=digest.pair_rows(session, settings, now) if sees_matrix(user_id, settings) else None,
        roles=roles,
        obstacles=_obstacles(session, settings, user_id, seen),
        at=now,
    )


def _obstacles(session: Session, settings: Settings, user_id: str, seen: ColumnElement[bool]) -> tuple[obstacles.ObstacleRow, ...] | None:
    """The obstacles the functions this person leads can clear, counted over what they may see."""
    owners = obstacles.owned_by(settings, user_id)
    return tuple(obstacles.ledger(session, settings, visible=seen, owners=owners)) if owners else None


def _initiatives(session: Session, user_id: str, functions: Sequence[str], seen: ColumnElement[bool]) -> Listed:
    part_of: list[ColumnElement[bool]] = [
        Initiative.proposer == user_id,
        Initiative.sponsor == user_id,
        Initiative.commitments.any(Commitment.owner == user_id),
    ]
    if functions:
        part_of.append(Initiative.functions.any(InitiativeFunction.function_key.in_(functions)))
    where = and_(rules.open_initiative(), or_(*part_of), seen)
    total = session.scalar(select(func.count()).select_from(Initiative).where(where)) or 0
    found = list(session.scalars(select(Initiative).where(where).order_by(Initiative.id.desc()).limit(SHOWN)))
    if not found:
        return Listed((), total)
    ids = [initiative.id for initiative in found]
    involved: dict[int, list[str]] = {}
    for initiative_id, key in session.execute(
        select(InitiativeFunction.initiative_id, InitiativeFunction.function_key)
        .where(InitiativeFunction.initiative_id.in_(ids))
        .order_by(InitiativeFunction.id)
    ):
        involved.setdefault(initiative_id, []).append(key)
    owning = set(session.scalars(select(Commitment.initiative_id).where(Commitment.initiative_id.in_(ids), Commitment.owner == user_id)))
    items = []
    for initiative in found:
        keys = tuple(involved.get(initiative.id, ()))
        roles = [role for role, yes in (("proposer", initiative.proposer == user_id), ("sponsor", initiative.sponsor == user_id)) if yes]
        roles += [key for key in keys if key in functions]
        if initiative.id in owning:
            roles.append("commitment owner")
        items.append(InitiativeItem(initiative.id, initiative.title, initiative.status, keys, tuple(roles)))
    return Listed(tuple(items), total)


def _commitments(session: Session, *conditions: ColumnElement[bool]) -> Listed:
    where = and_(*conditions)
    counted = select(func.count()).select_from(Commitment).join(Initiative, Initiative.id == Commitment.initiative_id)
    total = session.scalar(counted.where(where)) or 0
    rows = session.execute(
        select(Commitment, Initiative.title)
        .join(Initiative, Initiative.id == Commitment.initiative_id)
        .where(where)
        .order_by(Commitment.due, Commitment.id)
        .limit(SHOWN)
    )
    items = tuple(
        CommitmentItem(
            c.id, c.initiative_id, title, c.from_function, c.to_function, c.owner, c.what, c.due, c.status, c.requested_by, c.proposed_due
        )
        for c, title in rows
    )
    return Listed(items, total)
