"""People as the hub sees them: their functions and their local date."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.core import activity
from bot.runtime import Runtime


def functions_of(hub: Runtime, user: str) -> list[str]:
    """The functions a person acts for, counting members of each function's channel."""
    members = {key: hub.directory.members(function.channel) for key, function in hub.settings.functions.items()}
    return activity.functions_of(user, hub.settings, members)


def local_today(hub: Runtime, user: str) -> date:
    """Today where the person is (their Slack time zone, else the hub's)."""
    info = hub.directory.user(user)
    zone = info.tz if info and info.tz else hub.settings.hub.timezone
    return hub.clock.now().astimezone(ZoneInfo(zone)).date()
