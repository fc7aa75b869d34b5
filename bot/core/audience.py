"""Who may read what: the one definition of a channel's audience, of when text may be copied
from one channel into another, and of who may see an initiative's content.

The facts come from Slack (conversations.info, conversations.members), learned at the edge
and handed in as `ChannelFacts`; nothing here asks Slack.

- **Copying text** (a reply mirrored into the hub thread, and any other text the hub moves
  between channels) is allowed only when everyone who reads the target could already read
  the source: never out of a channel shared with another organisation (Slack Connect), never
  into one, never out of a private channel into a public one, and from one private channel
  into another only when every member of the target is a member of the source. A channel the
  hub knows nothing of is treated as the narrowest audience: nothing is copied.
- **Seeing an initiative** (its title, problem, commitments: `/cdo status`, `/cdo list`, the
  App Home, the forms that show it): anyone, when the hub channel is public, since its card is
  there for all to read. When the hub channel is private: members of the hub channel, members
  of the channel of one of the initiative's functions (and the leads and members the
  configuration gives those functions), its proposer and sponsor, and executives, hub staff
  and admins. The rule has two forms, a predicate for a loaded initiative and a SQL condition
  for queries; tests/test_audience.py checks that they agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import ColumnElement, or_, true

from bot.config import Settings
from bot.models import Initiative, InitiativeFunction


@dataclass(frozen=True)
class ChannelFacts:
    """What Slack says of a channel's audience."""

    id: str
    private: bool  # a private channel (or a DM): only its members read it
    external: bool  # shared with another organisation (Slack Connect), or being shared
    members: frozenset[str] | None = None  # known for private channels; None when not needed or unknown


class Barrier(str, Enum):
    """Why text may not be copied from one channel into another."""

    PRIVATE = "private"  # the source is private, and the target has readers it does not have
    SHARED_SOURCE = "shared-source"  # the source is shared with another organisation
    SHARED_TARGET = "shared-target"  # the target is shared with another organisation
    UNKNOWN = "unknown"  # a channel the hub knows nothing of (missing, or hidden from the bot)


def barrier(source: ChannelFacts | None, target: ChannelFacts | None) -> Barrier | None:
    """What stops text written in `source` from being copied into `target`; None when nothing does."""
    if source is None or target is None:
        return Barrier.UNKNOWN
    if source.id == target.id:
        return None
    if target.external:
        return Barrier.SHARED_TARGET
    if source.external:
        return Barrier.SHARED_SOURCE
    if not source.private:
        return None  # the whole workspace reads a public channel
    if target.private and source.members is not None and target.members is not None and target.members <= source.members:
        return None
    return Barrier.PRIVATE


def may_copy(source: ChannelFacts | None, target: ChannelFacts | None) -> bool:
    return barrier(source, target) is None


@dataclass(frozen=True)
class Viewer:
    """Someone asking to see initiatives, with what decides what they may see.

    `everything` is true when the hub channel is public, and for executives, hub staff,
    admins and members of a private hub channel; otherwise they see the initiatives of their
    `functions`, and those they proposed or sponsor.
    """

    user: str
    everything: bool
    functions: tuple[str, ...] = ()

    def may_see(self, initiative: Initiative) -> bool:
        return (
            self.everything
            or self.user in (initiative.proposer, initiative.sponsor)
            or any(key in self.functions for key in initiative.function_keys)
        )

    def condition(self) -> ColumnElement[bool]:
        """`may_see` as a condition on `Initiative`, for queries."""
        if self.everything:
            return true()
        part_of: list[ColumnElement[bool]] = [Initiative.proposer == self.user, Initiative.sponsor == self.user]
        if self.functions:
            part_of.append(Initiative.functions.any(InitiativeFunction.function_key.in_(self.functions)))
        return or_(*part_of)


def sees_everything(user: str, settings: Settings) -> bool:
    """Executives, hub staff and admins see every initiative, whatever the channels."""
    return user in settings.hub.executives or settings.is_staff(user) or settings.is_admin(user)


def viewer(user: str, settings: Settings, hub_channel: ChannelFacts | None, functions: Iterable[str]) -> Viewer:
    """Who `user` is as a viewer, given the hub channel's facts and the functions they belong to
    (`activity.functions_of`, with the members of each function's channel). A hub channel the
    hub knows nothing of counts as private with no known member."""
    public = hub_channel is not None and not hub_channel.private
    in_hub = hub_channel is not None and user in (hub_channel.members or frozenset())
    return Viewer(user, public or in_hub or sees_everything(user, settings), tuple(dict.fromkeys(functions)))
