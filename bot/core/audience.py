"""Who may read what: the one definition of a channel's audience and of when text may be
copied from one channel into another.

The facts come from Slack (conversations.info, conversations.members), learned at the edge
and handed in as `ChannelFacts`; nothing here asks Slack.

- **Copying text** (a reply mirrored into the hub thread, and any other text the hub moves
  between channels) is allowed only when everyone who reads the target could already read
  the source: never out of a channel shared with another organisation (Slack Connect), never
  into one, never out of a private channel into a public one, and from one private channel
  into another only when every member of the target is a member of the source. A channel the
  hub knows nothing of is treated as the narrowest audience: nothing is copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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
