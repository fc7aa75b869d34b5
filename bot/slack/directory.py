"""Who and where: channels by name or ID, users and their time zones, channel members.

Lookups are cached for a while because the same channels and users come up on every
request, and Slack's read methods are rate limited per workspace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from bot.app.port import ErrorKind, Result, SlackUnavailable, UserInfo
from bot.config import CHANNEL_ID
from bot.core.audience import ChannelFacts
from bot.slack.gateway import Gateway

CACHE_SECONDS = 600.0


class Directory:
    """The Slack port's directory side (`bot.app.port.DirectoryPort`), cached."""

    def __init__(self, gateway: Gateway, *, ttl: float = CACHE_SECONDS, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.gateway = gateway
        self.ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, Any]] = {}

    def _cached(self, key: tuple[str, str], fetch: Callable[[], Any]) -> Any:
        now = self._monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit and now - hit[0] < self.ttl:
                return hit[1]
        value = fetch()
        if value is not None:  # a failed look-up (Slack down) is asked again next time, not remembered
            with self._lock:
                self._cache[key] = (now, value)
        return value

    def forget_channel(self, name_or_id: str) -> None:
        with self._lock:
            self._cache.pop(("channel", name_or_id), None)
            self._cache.pop(("members", name_or_id), None)

    # --- channels ----------------------------------------------------------------------

    def channel(self, name_or_id: str) -> dict[str, Any] | None:
        """conversations.info for an ID, or the channel of that name; None when missing."""
        return self._cached(("channel", name_or_id), lambda: self._find_channel(name_or_id))

    def facts(self, name_or_id: str) -> ChannelFacts | None:
        """Who reads the channel: private or not, shared with another organisation or not, and
        for a private one its members. None when Slack says it does not exist (or the bot
        cannot see it); SlackUnavailable when Slack did not answer, so nobody decides on a guess."""
        info = self._cached(("channel", name_or_id), lambda: self._find_channel(name_or_id, strict=True))
        if not info or not info.get("id"):
            return None
        private = bool(info.get("is_private") or info.get("is_im") or info.get("is_mpim"))
        external = bool(info.get("is_ext_shared") or info.get("is_pending_ext_shared"))
        members = self.members(info["id"]) if private else None
        return ChannelFacts(info["id"], private, external, members)

    def channel_id(self, name_or_id: str) -> str | None:
        if CHANNEL_ID.match(name_or_id):
            return name_or_id
        found = self.channel(name_or_id)
        return found["id"] if found else None

    def _find_channel(self, name_or_id: str, *, strict: bool = False) -> dict[str, Any] | None:
        """`strict`: a Slack that did not answer raises SlackUnavailable instead of reading as missing."""

        def answered(result: Result) -> bool:
            if strict and not result.ok and result.kind is ErrorKind.TRANSIENT:
                raise SlackUnavailable(f"the channel {name_or_id}: {result.error}")
            return result.ok

        if CHANNEL_ID.match(name_or_id):
            result = self.gateway.channel_info(name_or_id)
            return result.get("channel") if answered(result) else None
        name = name_or_id.lstrip("#")
        cursor = None
        while True:
            result = self.gateway.call(
                "conversations.list", types="public_channel,private_channel", limit=200, cursor=cursor, exclude_archived=False
            )
            if not answered(result):
                return None
            for channel in result.get("channels", []):
                if channel.get("name") == name:
                    return channel
            cursor = (result.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    def members(self, name_or_id: str) -> frozenset[str]:
        return self._cached(("members", name_or_id), lambda: self._fetch_members(name_or_id))

    def _fetch_members(self, name_or_id: str) -> frozenset[str]:
        channel_id = self.channel_id(name_or_id)
        if channel_id is None:
            return frozenset()
        members: set[str] = set()
        cursor = None
        while True:
            result = self.gateway.call("conversations.members", channel=channel_id, limit=200, cursor=cursor)
            if not result.ok and result.kind is ErrorKind.TRANSIENT:
                raise SlackUnavailable(f"conversations.members of {channel_id}: {result.error}")
            if not result.ok:
                break
            members.update(result.get("members", []))
            cursor = (result.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return frozenset(members)

    # --- users -------------------------------------------------------------------------

    def known_user(self, user_id: str) -> UserInfo | None:
        """The user as last looked up, if still fresh, without calling Slack."""
        with self._lock:
            hit = self._cache.get(("user", user_id))
        if hit and self._monotonic() - hit[0] < self.ttl:
            return hit[1]
        return None

    def user(self, user_id: str) -> UserInfo | None:
        return self._cached(("user", user_id), lambda: self._fetch_user(user_id))

    def _fetch_user(self, user_id: str) -> UserInfo | None:
        result = self.gateway.user_info(user_id)
        if not result.ok:
            return None
        user = result.get("user") or {}
        return UserInfo(
            id=user_id,
            name=(user.get("profile") or {}).get("real_name") or user.get("real_name") or user.get("name") or user_id,
            tz=user.get("tz"),
            is_bot=bool(user.get("is_bot")),
            deleted=bool(user.get("deleted")),
        )
