"""conversations.*: channel info, joining, members, DMs, listing, history and threads."""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator.base import EmulatorBase, Methods
from bot.sandbox.emulator.records import ApiError, Args, flag
from bot.sandbox.workspace import Channel


class ConversationMethods(EmulatorBase):
    def _conversation_methods(self) -> Methods:
        return {
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "conversations.list": self._conversations_list,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
        }

    def _conversations_info(self, args: Args) -> dict[str, Any]:
        return {"channel": self._channel_by_id(args).to_api(self.workspace.bot_user_id)}

    def _conversations_join(self, args: Args) -> dict[str, Any]:
        channel = self.workspace.channels.get(str(args.get("channel") or ""))
        if channel is None:
            raise ApiError("channel_not_found")
        if channel.is_private or channel.is_im or channel.is_mpim:
            raise ApiError("method_not_supported_for_channel_type")
        if channel.is_archived:
            raise ApiError("is_archived")
        bot = self.workspace.bot_user_id
        extra = {"warning": "already_in_channel"} if bot in channel.members else {}
        channel.members.add(bot)
        return {"channel": channel.to_api(bot), **extra}

    def _conversations_members(self, args: Args) -> dict[str, Any]:
        channel = self._channel_by_id(args)
        return self._page(sorted(channel.members), args, "members")

    def _conversations_open(self, args: Args) -> dict[str, Any]:
        """A 1:1 DM for one user; for two to eight, a group DM (mpim) with the bot, as in Slack."""
        users = list(dict.fromkeys(u for u in str(args.get("users") or "").split(",") if u))
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 8:
            raise ApiError("too_many_users")
        for user_id in users:
            user = self.workspace.user(user_id)
            if user is None:
                raise ApiError("user_not_found")
            if user.deleted:
                raise ApiError("user_disabled")
            if user.is_bot:
                raise ApiError("cannot_dm_bot")
        if len(users) > 1:
            existed = self.workspace.find_group_dm(users) is not None
            group = self.workspace.group_dm(users)
            return {"no_op": existed, "already_open": existed, "channel": {"id": group.id}}
        existed = any(c.is_im and c.user == users[0] for c in self.workspace.channels.values())
        dm = self.workspace.dm_channel(users[0])
        return {"no_op": existed, "already_open": existed, "channel": {"id": dm.id}}

    def _conversations_list(self, args: Args) -> dict[str, Any]:
        types = set(str(args.get("types") or "public_channel").split(","))
        bot = self.workspace.bot_user_id

        def wanted(c: Channel) -> bool:
            kind = "im" if c.is_im else "mpim" if c.is_mpim else "private_channel" if c.is_private else "public_channel"
            visible = kind == "public_channel" or bot in c.members
            return kind in types and visible and not (c.is_archived and flag(args.get("exclude_archived")))

        ordered = sorted(self.workspace.channels.values(), key=lambda c: c.id)
        channels = [c.to_api(bot) for c in ordered if wanted(c)]
        return self._page(channels, args, "channels")

    def _conversations_replies(self, args: Args) -> dict[str, Any]:
        channel = self._channel_by_id(args)
        if self.workspace.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
        msg = self._find_message(channel, args.get("ts"))
        if msg is None:
            raise ApiError("thread_not_found")
        root = msg.thread_ts or msg.ts
        thread = [m for m in self.workspace.messages[channel.id] if m.ts == root or m.thread_ts == root]
        return {"messages": [m.to_api() for m in thread], "has_more": False}

    def _conversations_history(self, args: Args) -> dict[str, Any]:
        """Top-level messages, newest first, from `oldest` on (thread replies are not listed)."""
        channel = self._channel_by_id(args)
        if self.workspace.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
        try:
            oldest = float(args.get("oldest") or 0)
        except (TypeError, ValueError):
            raise ApiError("invalid_ts_oldest") from None
        top = [m for m in self.workspace.messages[channel.id] if not m.thread_ts and float(m.ts) >= oldest]
        include = flag(args.get("include_all_metadata"))
        listed = [{k: v for k, v in m.to_api().items() if include or k != "metadata"} for m in reversed(top)]
        page = self._page(listed, args, "messages")
        page["has_more"] = bool(page["response_metadata"]["next_cursor"])
        return page
