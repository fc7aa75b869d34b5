"""The obstacle ledger: which configured obstacles (`[obstacles.<key>]`) hold which initiatives
back, and, over all open initiatives, which obstacles hold the journeys back most.

A proposal is linked to every obstacle whose keywords appear in its title, problem or known
obstacles, by the keyword rule of routing (`routing.keyword_reason`), and the reason is kept.
The proposer, the sponsor, hub staff and admins may change the links later (from the hub
card). The ledger is counted in SQL, one row per obstacle, however many initiatives there are.
Nothing here knows Slack.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import rules
from bot.core.routing import ProposalText, keyword_reason
from bot.models import Initiative, InitiativeObstacle

CHOSEN_ON_CARD = "chosen on the hub card"


@dataclass(frozen=True)
class ObstacleRow:
    """One obstacle of the ledger: the open initiatives it holds back (their IDs when asked
    for, else empty), how many, the journeys they serve, and when the oldest was proposed."""

    key: str
    name: str
    owner: str
    count: int
    journeys: tuple[str, ...]
    since: datetime | None
    initiatives: tuple[int, ...] = ()

    def as_report(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "owner": self.owner,
            "initiatives": list(self.initiatives),
            "journeys": list(self.journeys),
            "since": self.since.isoformat() if self.since else None,
        }


def suggest(settings: Settings, text: ProposalText) -> dict[str, str]:
    """Obstacle key → why the proposal is linked to it, in configuration order."""
    reasons = {key: keyword_reason(obstacle.keywords, text) for key, obstacle in settings.obstacles.items()}
    return {key: reason for key, reason in reasons.items() if reason}


def link_new(initiative: Initiative, settings: Settings, text: ProposalText, now: datetime) -> None:
    """Link a new initiative (not flushed yet) to the obstacles its words name."""
    for key, reason in suggest(settings, text).items():
        initiative.obstacle_links.append(InitiativeObstacle(obstacle_key=key, reason=reason, created_at=now))


def linked(initiative: Initiative, settings: Settings) -> list[str]:
    """The configured obstacles the initiative is linked to, in configuration order (a link to
    an obstacle no longer configured is kept, and shown nowhere)."""
    keys = {link.obstacle_key for link in initiative.obstacle_links}
    return [key for key in settings.obstacles if key in keys]


def unknown(settings: Settings, keys: Iterable[str]) -> list[str]:
    return [key for key in keys if key not in settings.obstacles]


def set_links(session: Session, initiative: Initiative, keys: Sequence[str], settings: Settings, now: datetime) -> bool:
    """Make the initiative's configured obstacles exactly `keys` (all configured: see `unknown`).
    A link kept keeps its reason; a new one is `chosen on the hub card`. Whether anything changed."""
    wanted = set(keys)
    if unknown(settings, wanted):
        raise ValueError(f"unknown obstacles: {sorted(unknown(settings, wanted))}")
    current = {link.obstacle_key: link for link in initiative.obstacle_links if link.obstacle_key in settings.obstacles}
    for key, link in current.items():
        if key not in wanted:
            initiative.obstacle_links.remove(link)  # delete-orphan: the row goes
    added = [key for key in settings.obstacles if key in wanted and key not in current]
    for key in added:
        initiative.obstacle_links.append(InitiativeObstacle(obstacle_key=key, reason=CHOSEN_ON_CARD, created_at=now))
    session.flush()
    return bool(added or set(current) - wanted)


def ledger(
    session: Session,
    settings: Settings,
    *,
    visible: ColumnElement[bool] | None = None,
    owners: Iterable[str] | None = None,
    with_ids: bool = False,
) -> list[ObstacleRow]:
    """Every configured obstacle (or those `owners` can clear), ranked by the open initiatives
    it holds back, then by the age of the oldest, then by key. `visible`: count only the
    initiatives a person may see (`audience.Viewer.condition`)."""
    wanted = [key for key, obstacle in settings.obstacles.items() if owners is None or obstacle.owner in set(owners)]
    if not wanted:
        return []
    where = (InitiativeObstacle.obstacle_key.in_(wanted), rules.open_initiative(), visible if visible is not None else true())
    joined = select().select_from(InitiativeObstacle).join(Initiative, Initiative.id == InitiativeObstacle.initiative_id).where(*where)
    counts = {
        key: (count, since)
        for key, count, since in session.execute(
            joined.add_columns(InitiativeObstacle.obstacle_key, func.count(), func.min(Initiative.created_at)).group_by(
                InitiativeObstacle.obstacle_key
            )
        )
    }
    journeys: dict[str, list[str]] = {}
    for key, journey in session.execute(
        joined.add_columns(InitiativeObstacle.obstacle_key, Initiative.journey)
        .group_by(InitiativeObstacle.obstacle_key, Initiative.journey)
        .order_by(Initiative.journey)
    ):
        journeys.setdefault(key, []).append(journey)
    ids: dict[str, list[int]] = {}
    if with_ids:
        for key, initiative_id in session.execute(
            joined.add_columns(InitiativeObstacle.obstacle_key, Initiative.id).order_by(Initiative.id)
        ):
            ids.setdefault(key, []).append(initiative_id)
    rows = []
    for key in wanted:
        obstacle = settings.obstacles[key]
        count, since = counts.get(key, (0, None))
        rows.append(ObstacleRow(key, obstacle.name, obstacle.owner, count, tuple(journeys.get(key, ())), since, tuple(ids.get(key, ()))))
    return sorted(rows, key=_rank)


def _rank(row: ObstacleRow) -> tuple[int, float, str]:
    return (-row.count, row.since.timestamp() if row.since else float("inf"), row.key)


def owned_by(settings: Settings, user_id: str) -> list[str]:
    """The functions whose obstacles `user_id` sees on the Home tab: those they lead that own one."""
    owners = {obstacle.owner for obstacle in settings.obstacles.values()}
    return [key for key, function in settings.functions.items() if key in owners and user_id in function.leads]


def report(session: Session, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """`cdo-hub report obstacles`: every configured obstacle, ranked, with its open initiatives."""
    return [row.as_report() for row in ledger(session, settings, with_ids=True)]
