"""Follow: the initiatives a person asks for (`/cdo list`, `/cdo status`, `/cdo pairs`), and
an initiative's status changed from its card.

What a person may see (bot.core.audience) may need Slack to say who is in which channel, so it
is decided after Slack is answered: `/cdo list` reads only what the person may see, `/cdo
status` checks the initiative it read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.app import audience, outbox, owed
from bot.app.hub import Hub
from bot.config import FunctionConfig
from bot.core import digest, initiatives, naming, permissions
from bot.db import transaction
from bot.models import Initiative


@dataclass(frozen=True)
class Listing:
    heading: str
    initiatives: list[Initiative]
    restricted: bool = False  # the hub channel is private and the person sees only part of it


def find_function(hub: Hub, argument: str) -> FunctionConfig | None:
    """A function by key, name or channel (`#marketing`, `marketing`, or its channel ID)."""
    return naming.find_function(hub.settings, argument)


def understood(hub: Hub, argument: str) -> bool:
    """Whether `/cdo list`'s argument means something: nothing, `mine`, `stalled` or a function."""
    wanted = argument.strip().lower()
    return wanted in ("", "mine", "stalled") or find_function(hub, argument) is not None


def listing(hub: Hub, user: str, argument: str) -> Listing | None:
    """`mine`, `stalled`, a function, or everything open, of what `user` may see; None when the
    argument means nothing. Asks Slack who is in which channel: after the ack."""
    if not understood(hub, argument):
        return None
    viewer = audience.viewer(hub, user)
    wanted = argument.strip().lower()
    function = find_function(hub, argument) if wanted not in ("", "mine", "stalled") else None
    seen = viewer.condition()
    with hub.sessions() as session:
        if wanted == "mine":
            heading, found = "Your open initiatives", initiatives.listing(session, mine=user, visible=seen)
        elif wanted == "stalled":
            heading, found = "Initiatives with a stalled pair", initiatives.listing(session, stalled=True, visible=seen)
        elif function is not None:
            heading, found = f"Open initiatives of {function.name}", initiatives.listing(session, function=function.key, visible=seen)
        else:
            heading, found = "Open initiatives", initiatives.listing(session, visible=seen)
    return Listing(heading, found, restricted=not viewer.everything)


def may_see(hub: Hub, user: str, initiative: Initiative) -> bool:
    """Whether `user` may see the initiative's content (asks Slack: after the ack)."""
    return audience.viewer(hub, user).may_see(initiative)


def initiative(hub: Hub, initiative_id: int) -> Initiative | None:
    with hub.sessions() as session:
        return initiatives.get(session, initiative_id)


def thread_link(hub: Hub, initiative: Initiative) -> str | None:
    """The link to the initiative's hub thread (a Web API call: after the ack)."""
    if not (initiative.hub_channel and initiative.hub_ts):
        return None
    return hub.gateway.permalink(initiative.hub_channel, initiative.hub_ts)


@dataclass(frozen=True)
class Pairs:
    rows: tuple[digest.PairRow, ...]
    never_met: list[digest.FirstStep]

    @property
    def met(self) -> int:
        return sum(1 for row in self.rows if row.state != digest.NEVER_MET)


def pairs(hub: Hub) -> Pairs:
    with hub.sessions() as session:
        rows = digest.pair_rows(session, hub.settings, hub.clock.now())
    return Pairs(rows, [digest.first_step(hub.settings, row.functions) for row in rows if row.state == digest.NEVER_MET])


class StatusOutcome(str, Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"  # a double click: it has that status already
    REFUSED = "refused"
    NOT_FOUND = "not_found"


def set_status(hub: Hub, user: str, initiative_id: int, status: str) -> StatusOutcome:
    """Change the status once; the card is updated and the change said in its thread."""
    with transaction(hub.sessions) as session:
        initiative = initiatives.get(session, initiative_id)
        if initiative is None:
            return StatusOutcome.NOT_FOUND
        if not permissions.may_change_initiative(user, initiative, hub.settings):
            return StatusOutcome.REFUSED
        if not initiatives.set_status(session, initiative, status, hub.clock.now()):
            return StatusOutcome.UNCHANGED
        keys = owed.owe_status(session, initiative_id, user, status, hub.clock.now())
    outbox.drain(hub, keys=keys)
    return StatusOutcome.CHANGED
