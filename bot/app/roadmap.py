"""A couple's joint roadmap as one person may see it (`/cdo roadmap`, the App Home), with the
link to each item's hub thread. What a person may see may need Slack to say who is in which
channel (bot.app.audience), so this runs after Slack is answered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.app import audience
from bot.app.hub import Hub
from bot.core import roadmap as roadmaps
from bot.core.audience import Viewer
from bot.core.roadmap import Roadmap

Links = dict[tuple[str, int], str]  # ("initiative" | "commitment", id) -> the thread's link

HOME_ITEMS = 5  # items of one couple on the App Home: all that is read of it there


@dataclass(frozen=True)
class Shown:
    roadmap: Roadmap
    links: Links
    restricted: bool  # the hub channel is private and the person sees only part of it


def links_of(hub: Hub, found: Roadmap) -> Links:
    """Permalinks written from the workspace's address (one auth.test per process)."""
    links: Links = {}
    for month in found.months:
        for item in month.initiatives:
            if item.hub_channel and item.hub_ts and (link := hub.gateway.permalink(item.hub_channel, item.hub_ts)):
                links[("initiative", item.id)] = link
        for c in month.commitments:
            ts = c.hub_ts or c.thread_ts
            if c.hub_channel and ts and (link := hub.gateway.permalink(c.hub_channel, ts, thread_ts=c.thread_ts)):
                links[("commitment", c.id)] = link
    return links


def shown(hub: Hub, user: str, functions: tuple[str, str], viewer: Viewer | None = None, *, limit: int | None = None) -> Shown:
    """`limit`: read only the first items of the roadmap (all are counted)."""
    return shown_many(hub, user, [functions], viewer, limit=limit)[0]


def shown_many(
    hub: Hub, user: str, couples: Sequence[tuple[str, str]], viewer: Viewer | None = None, *, limit: int | None = None
) -> list[Shown]:
    """`shown` for several couples, read together (the App Home shows each couple of a lead)."""
    seen = viewer or audience.viewer(hub, user)
    with hub.sessions() as session:
        found = roadmaps.build_many(session, hub.settings, hub.clock.now(), couples, seen.condition(), limit=limit)
    return [Shown(roadmap, links_of(hub, roadmap), restricted=not seen.everything) for roadmap in found]


def couples_of(hub: Hub, user: str) -> list[tuple[str, str]]:
    """The couples of the functions `user` leads, in the configuration's order."""
    keys = list(hub.settings.functions)
    led = [key for key in keys if user in hub.settings.functions[key].leads]
    return [(mine, other) for mine in led for other in keys if other != mine]
