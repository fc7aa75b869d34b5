"""Obstacles: change the ones linked to an initiative (from its hub card), and read the ledger
for `/cdo obstacles` (what a person may see of it: after Slack is answered)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import audience, outbox, owed
from bot.app.hub import Hub
from bot.core import initiatives, obstacles, permissions
from bot.core.obstacles import ObstacleRow
from bot.db import transaction

REFUSED = "Sorry, only the proposer, the sponsor, hub staff or admins can change an initiative's obstacles."


@dataclass(frozen=True)
class Choice:
    """What the form that changes an initiative's obstacles needs, or why it is not offered."""

    problem: str | None = None
    title: str = ""
    linked: tuple[str, ...] = ()


def choice(hub: Hub, user: str, initiative_id: int) -> Choice:
    with hub.sessions() as session:
        initiative = initiatives.get(session, initiative_id)
        if initiative is None:
            return Choice(problem=f"There is no initiative #{initiative_id}.")
        if not permissions.may_change_initiative(user, initiative, hub.settings):
            return Choice(problem=REFUSED)
        if not hub.settings.obstacles:
            return Choice(problem="No obstacles are configured.")
        return Choice(title=initiative.title, linked=tuple(obstacles.linked(initiative, hub.settings)))


def check(hub: Hub, user: str, initiative_id: int, keys: list[str]) -> str | None:
    """What is wrong with the obstacles chosen, phrased for the form (None: they can be saved)."""
    if obstacles.unknown(hub.settings, keys):
        return "An obstacle chosen is no longer configured: open the form again from the card and choose among those offered."
    return choice(hub, user, initiative_id).problem


def change(hub: Hub, user: str, initiative_id: int, keys: list[str]) -> bool:
    """Link the initiative to exactly these obstacles and redraw its card; whether anything changed
    (nothing does for someone who may not, or for an obstacle no longer configured)."""
    if obstacles.unknown(hub.settings, keys):
        return False
    with transaction(hub.sessions) as session:
        initiative = initiatives.get(session, initiative_id)
        if initiative is None or not permissions.may_change_initiative(user, initiative, hub.settings):
            return False
        if not obstacles.set_links(session, initiative, keys, hub.settings, hub.clock.now()):
            return False
        keys_owed = owed.owe_refresh(session, [initiative_id], [], hub.clock.now())
    outbox.drain(hub, keys=keys_owed)
    return True


@dataclass(frozen=True)
class Ledger:
    rows: list[ObstacleRow]
    restricted: bool = False  # the hub channel is private and the person sees only part of it


def ledger(hub: Hub, user: str) -> Ledger:
    """The ranked ledger, counting only the initiatives `user` may see (asks Slack: after the ack)."""
    viewer = audience.viewer(hub, user)
    with hub.sessions() as session:
        rows = obstacles.ledger(session, hub.settings, visible=viewer.condition())
    return Ledger(rows, restricted=not viewer.everything)
