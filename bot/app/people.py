"""People as the use cases see them: their functions, their time zone, their local date.

Channel members and users come from the directory (cached); the rules themselves live in
`bot.core.activity.functions_of` and `bot.core.people`.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, func, select

from bot.app.hub import Hub
from bot.app.port import UserInfo
from bot.core import activity
from bot.core import people as rules
from bot.db import insert_for, reading, transaction
from bot.models import SlackUser

USERS_FRESH = timedelta(days=1)


def functions_of(hub: Hub, user: str) -> list[str]:
    """The functions a person acts for, counting members of each function's channel. Raises
    SlackUnavailable when Slack cannot say who is in a channel: a guess would lose a function."""
    members = {key: hub.directory.members(function.channel) for key, function in hub.settings.functions.items()}
    return activity.functions_of(user, hub.settings, members)


def zone_of(hub: Hub, user: str) -> ZoneInfo:
    info = hub.directory.user(user)
    return rules.zone(info.tz if info else None, hub.settings.tz)


def local_today(hub: Hub, user: str) -> date:
    """Today where the person is (their Slack time zone, else the hub's)."""
    return hub.clock.now().astimezone(zone_of(hub, user)).date()


_KNOWN = select(SlackUser.tz, SlackUser.is_bot, SlackUser.deleted).where(SlackUser.user_id == bindparam("user"))


def known(hub: Hub, user: str, connection: Connection | None = None) -> UserInfo | None:
    """What the hub knows of a person without asking Slack: the directory's cache, else the
    `slack_users` table the sweep keeps (on `connection`, when the caller has one open). For
    checks made before Slack is answered."""
    info = hub.directory.known_user(user)
    if info is not None:
        return info
    with reading(hub.engine) if connection is None else nullcontext(connection) as reader:
        row = reader.execute(_KNOWN, {"user": user}).first()
    return UserInfo(user, user, row.tz, row.is_bot, row.deleted) if row is not None else None


def known_today(hub: Hub, user: str, connection: Connection | None = None) -> date:
    """Today where the person is, as far as the hub knows without asking Slack."""
    info = known(hub, user, connection)
    return hub.clock.now().astimezone(rules.zone(info.tz if info else None, hub.settings.tz)).date()


class ZoneBook:
    """Time zones and reachability for a sweep, from users.info cached in `slack_users` for a day.

    `warm` fetches and stores before a sweep's transactions begin, so that nothing inside
    them waits on Slack or on another write; a person met later is looked up in memory only.
    Without a bot token (a dry run on a fresh install) everyone is in the hub's time zone.
    """

    def __init__(self, hub: Hub, now: datetime, *, store: bool = True) -> None:
        self.hub, self.now, self.store = hub, now, store
        self._known: dict[str, tuple[str | None, bool]] = {}

    def warm(self, users: Iterable[str]) -> None:
        missing = sorted({user for user in users if user and user not in self._known})
        if not missing:
            return
        with self.hub.sessions() as session:
            cached = {row.user_id: row for row in session.scalars(select(SlackUser).where(SlackUser.user_id.in_(missing)))}
        fetched = []
        for user in missing:
            row = cached.get(user)
            if row is not None and self.now - row.fetched_at < USERS_FRESH:
                self._known[user] = (row.tz, not (row.deleted or row.is_bot))
                continue
            info = self._fetch(user)
            if info is not None:
                fetched.append(info)
            elif row is not None:  # Slack did not answer: a stale answer beats none
                self._known[user] = (row.tz, not (row.deleted or row.is_bot))
        if fetched and self.store:
            store_users(self.hub, fetched)

    def _fetch(self, user: str) -> dict[str, Any] | None:
        if not self.hub.settings.slack.bot_token:
            return None
        info = self.hub.directory.user(user)
        if info is None:
            return None
        self._known[user] = (info.tz, not (info.deleted or info.is_bot))
        return {"user_id": user, "tz": info.tz, "is_bot": info.is_bot, "deleted": info.deleted, "fetched_at": self.now}

    def _entry(self, user: str) -> tuple[str | None, bool]:
        if user not in self._known:
            self._fetch(user)
        return self._known.get(user, (None, True))

    def zone(self, user_id: str) -> ZoneInfo:
        return rules.zone(self._entry(user_id)[0], self.hub.settings.tz)

    def reachable(self, user_id: str) -> bool:
        return self._entry(user_id)[1]


SYNC_EVERY = timedelta(days=1)


def sync_users(hub: Hub, *, force: bool = False) -> int:
    """Copy the workspace's people (time zone, bot, deactivated) into `slack_users`, so that
    checks made before Slack is answered know them. Once a day; how many were stored."""
    now = hub.clock.now()
    with hub.sessions() as session:
        newest = session.scalar(select(func.max(SlackUser.fetched_at)))
    if not force and newest is not None and now - newest < SYNC_EVERY:
        return 0
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = hub.gateway.call("users.list", limit=200, cursor=cursor)
        if not page.ok:
            break
        for member in page.get("members") or []:
            if member.get("id"):
                flags = {"tz": member.get("tz"), "is_bot": bool(member.get("is_bot")), "deleted": bool(member.get("deleted"))}
                rows.append({"user_id": member["id"], **flags, "fetched_at": now})
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    store_users(hub, rows)
    return len(rows)


def store_users(hub: Hub, rows: list[dict[str, Any]]) -> None:
    """Insert or refresh `slack_users` rows (user_id, tz, is_bot, deleted, fetched_at)."""
    if not rows:
        return
    with transaction(hub.sessions) as session:
        insert = insert_for(session)
        for values in rows:
            changed = {key: value for key, value in values.items() if key != "user_id"}
            session.execute(insert(SlackUser).values(**values).on_conflict_do_update(index_elements=["user_id"], set_=changed))
