"""A person's calendar: the time zone Slack gives them, else the hub's.

The one definition of "where a person is" for working hours, due dates and the dates they
read. Slack reports a tz name per user; an unknown or malformed one (a stale tz database, a
hand-edited cache row) falls back to the hub's zone rather than failing the request.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Who asked for or answered a request when that person's data was erased: the column must still
# say that somebody did, and names nobody.
ERASED = "erased"


def zone(tz_name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    if not tz_name:
        return fallback
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def today(tz_name: str | None, fallback: ZoneInfo, now: datetime) -> date:
    """The person's own date at `now` (aware UTC)."""
    return now.astimezone(zone(tz_name, fallback)).date()
