"""Activity: what a person did on an initiative, attributed to their function(s)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import pairs
from bot.models import Activity, Initiative


def functions_of(user_id: str, settings: Settings, channel_members: dict[str, frozenset[str]] | None = None) -> list[str]:
    """The functions a person acts for: leads and members from the configuration, and the
    members of each function's channel. Hub staff act for no function, so the hub can
    never keep a pair alive on its own."""
    if settings.is_staff(user_id):
        return []
    found = []
    for function in settings.functions.values():
        members = (channel_members or {}).get(function.key, frozenset())
        if user_id in function.leads or user_id in function.members or user_id in members:
            found.append(function.key)
    return found


def record(
    session: Session,
    initiative: Initiative,
    user_id: str,
    function_keys: Iterable[str],
    kind: str,
    at: datetime,
    *,
    ref: str | None = None,
    joint: tuple[str, str] | None = None,
) -> list[Activity]:
    """Store one row per function involved in the initiative and update its pairs.

    `joint` names a pair whose two functions met in this act (a commitment between them).
    """
    involved = set(initiative.function_keys)
    keys = [key for key in dict.fromkeys(function_keys) if key in involved]
    joint_pair = tuple(sorted(joint)) if joint else None
    # Lock before reading: a pair read earlier may miss what another reply just wrote.
    locked = pairs.locked(session, initiative.id) if keys or joint_pair else []
    rows = [Activity(initiative_id=initiative.id, function_key=key, user_id=user_id, kind=kind, ref=ref, at=at) for key in keys]
    session.add_all(rows)
    for pair in locked:
        for key in keys:
            pairs.touch(pair, key, at, joint=pair.functions == joint_pair)
        if pair.functions == joint_pair:
            for key in pair.functions:
                pairs.touch(pair, key, at, joint=True)
    return rows
