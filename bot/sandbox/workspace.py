"""In-memory Slack workspace used by the emulator: users, channels, messages."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"

EMAIL_DOMAIN = "acme.example"


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str = "Europe/Paris"
    is_bot: bool = False
    deleted: bool = False
    email: str | None = None

    @property
    def tz_offset(self) -> int:
        """Offset from UTC in seconds right now (DST-aware, like Slack's)."""
        offset = datetime.now(ZoneInfo(self.tz)).utcoffset()
        return int(offset.total_seconds()) if offset else 0

    @property
    def tz_label(self) -> str:
        return datetime.now(ZoneInfo(self.tz)).tzname() or self.tz

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "is_bot": self.is_bot,
            "deleted": self.deleted,
            "profile": {"real_name": self.real_name, "display_name": self.name} | ({"email": self.email} if self.email else {}),
        }


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    members: set[str] = field(default_factory=set)
    is_im: bool = False
    user: str | None = None  # the other party of a DM
    is_ext_shared: bool = False  # shared with another organisation (Slack Connect)
    is_mpim: bool = False  # a group DM: its members and the bot

    def to_api(self, viewer: str = BOT_USER_ID) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "is_channel": not self.is_im and not self.is_private and not self.is_mpim,
            "is_group": self.is_private,
            "is_im": self.is_im,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_im or self.is_mpim,
            "is_archived": self.is_archived,
            "is_member": viewer in self.members,
            # Slack Connect: `is_shared` is also true for channels shared across an Enterprise
            # Grid organisation, which the sandbox does not have.
            "is_shared": self.is_ext_shared,
            "is_ext_shared": self.is_ext_shared,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
        }
        if self.is_im:
            data["user"] = self.user
        else:
            data["name"] = self.name
            data["num_members"] = len(self.members)
        return data


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    bot_id: str | None = None
    metadata: dict[str, Any] | None = None
    edited: dict[str, str] | None = None
    reply_broadcast: bool = False
    files: list[dict[str, Any]] | None = None  # files shared with the message (an upload's completion)

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "message", "ts": self.ts, "user": self.user, "text": self.text}
        optional = {
            "blocks": self.blocks,
            "thread_ts": self.thread_ts,
            "bot_id": self.bot_id,
            "metadata": self.metadata,
            "edited": self.edited,
            "files": self.files,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        if self.reply_broadcast:
            data["subtype"] = "thread_broadcast"
        return data


@dataclass
class Workspace:
    team_id: str = "T0CDOHUB"
    team_name: str = "CDO Hub"
    domain: str = "cdo-hub"
    bot_user_id: str = BOT_USER_ID
    bot_id: str = BOT_ID
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    messages: dict[str, list[Message]] = field(default_factory=dict)  # channel id -> in post order

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        if self.bot_user_id not in self.users:
            self.add_user(self.bot_user_id, "cdo-hub", "CDO Hub", is_bot=True)

    def add_user(
        self,
        id: str,
        name: str,
        real_name: str,
        *,
        tz: str = "Europe/Paris",
        is_bot: bool = False,
        deleted: bool = False,
        email: str | None = None,
    ) -> User:
        """A person's email is `name`@acme.example unless given; a bot has none."""
        email = email or (None if is_bot else f"{name}@{EMAIL_DOMAIN}")
        user = User(id, name, real_name, tz=tz, is_bot=is_bot, deleted=deleted, email=email)
        self.users[id] = user
        return user

    def add_channel(
        self,
        name: str,
        *,
        id: str | None = None,
        is_private: bool = False,
        is_archived: bool = False,
        members: Iterable[str] = (),
        bot_member: bool = True,
        is_ext_shared: bool = False,
    ) -> Channel:
        channel_id = id or self._new_id("C")
        channel = Channel(channel_id, name.lstrip("#"), is_private, is_archived, set(members), is_ext_shared=is_ext_shared)
        if bot_member:
            channel.members.add(self.bot_user_id)
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def channel(self, id_or_name: str) -> Channel | None:
        """Look up by ID ("C123"), "#name" or "name"; None when missing."""
        if id_or_name in self.channels:
            return self.channels[id_or_name]
        name = id_or_name.lstrip("#")
        return next((c for c in self.channels.values() if c.name == name and not (c.is_im or c.is_mpim)), None)

    def user(self, id: str) -> User | None:
        return self.users.get(id)

    def user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email and u.email.lower() == wanted), None)

    def dm_channel(self, user_id: str) -> Channel:
        """The bot's DM with user_id, created on first use (caller checks the user)."""
        for channel in self.channels.values():
            if channel.is_im and channel.user == user_id:
                return channel
        members = {self.bot_user_id, user_id}
        channel = Channel(self._new_id("D"), user_id, members=members, is_im=True, user=user_id)
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    def find_group_dm(self, user_ids: Iterable[str]) -> Channel | None:
        members = {self.bot_user_id, *user_ids}
        return next((c for c in self.channels.values() if c.is_mpim and c.members == members), None)

    def group_dm(self, user_ids: Iterable[str]) -> Channel:
        """The group DM of these users and the bot, created on first use (caller checks the users)."""
        ids = list(user_ids)
        found = self.find_group_dm(ids)
        if found is not None:
            return found
        names = "--".join(self.users[u].name if u in self.users else u for u in ids)
        channel = Channel(self._new_id("G"), f"mpdm-{names}-1", is_private=False, members={self.bot_user_id, *ids}, is_mpim=True)
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    def _new_id(self, prefix: str) -> str:
        while True:
            candidate = f"{prefix}0AUTO{next(self._ids):04d}"
            if candidate not in self.channels:
                return candidate

    @classmethod
    def default(cls) -> Workspace:
        """The demo company: hub staff, four department leads, a few members."""
        ws = cls()
        people = [
            ("U0CDO", "camille.cdo", "Camille CDO", "Europe/Paris"),
            ("U0CEO", "claire.ceo", "Claire Moreau", "Europe/Paris"),
            ("U0CMO", "marc.mkt", "Marc Lefevre", "Europe/Paris"),
            ("U0CIO", "ines.it", "Ines Garcia", "Europe/Paris"),
            ("U0CHRO", "hugo.hr", "Hugo Bernard", "Europe/Paris"),
            ("U0MKT1", "lea.mkt", "Lea Petit", "Europe/Paris"),
            ("U0IT1", "sam.it", "Sam Walker", "America/New_York"),
            ("U0HR1", "yuki.hr", "Yuki Tanaka", "Asia/Tokyo"),
        ]
        for user_id, name, real_name, tz in people:
            ws.add_user(user_id, name, real_name, tz=tz)
        ws.add_user("U0GONE", "former.employee", "Paul Ancien", deleted=True)
        ws.add_user("U0OTHERBOT", "other-bot", "Other Bot", is_bot=True)

        leads = ["U0CDO", "U0CEO", "U0CMO", "U0CIO", "U0CHRO"]
        ws.add_channel("cdo-hub", id="C0HUB", members=leads)
        ws.add_channel("marketing", id="C0MKT", members=["U0CDO", "U0CMO", "U0MKT1"])
        ws.add_channel("it", id="C0IT", members=["U0CDO", "U0CIO", "U0IT1"])
        ws.add_channel("hr", id="C0HR", members=["U0CDO", "U0CHRO", "U0HR1"])
        ws.add_channel("finance", id="C0FIN", members=["U0CDO", "U0CEO"], bot_member=False)
        ws.add_channel("secret-project", id="C0SECRET", is_private=True, members=["U0CDO", "U0CEO"], bot_member=False)
        ws.add_channel("old-intranet", id="C0OLD", is_archived=True, members=["U0CDO", "U0CIO"])
        return ws
