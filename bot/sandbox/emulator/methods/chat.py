"""chat.*: posting, updating, deleting, ephemerals and permalinks.

chat.postMessage and chat.postEphemeral take a channel ID, "#name"/"name", or a
user ID meaning the bot's DM with that user.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator.base import EmulatorBase, Methods
from bot.sandbox.emulator.records import ApiError, Args, Ephemeral, flag
from bot.sandbox.emulator.validation import MESSAGE_BLOCK_LIMIT, block_problems
from bot.sandbox.workspace import Channel, Message

TEXT_LIMIT = 40_000


class ChatMethods(EmulatorBase):
    def _chat_methods(self) -> Methods:
        return {
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
        }

    def _chat_post_message(self, args: Args) -> dict[str, Any]:
        channel = self._post_target(args)
        self._ensure_postable(channel)
        text, blocks = self._content(args)
        thread_ts = None
        if args.get("thread_ts"):
            parent = self._find_message(channel, str(args["thread_ts"]))
            if parent is None:
                raise ApiError("thread_not_found")
            thread_ts = parent.thread_ts or parent.ts  # replying to a reply lands in its thread
        ws = self.workspace
        msg = Message(
            channel.id,
            self._next_ts(),
            ws.bot_user_id,
            text,
            blocks,
            thread_ts,
            ws.bot_id,
            args.get("metadata"),
            reply_broadcast=bool(thread_ts) and flag(args.get("reply_broadcast")),
        )
        ws.messages[channel.id].append(msg)
        return {"channel": channel.id, "ts": msg.ts, "message": msg.to_api()}

    def _chat_update(self, args: Args) -> dict[str, Any]:
        channel = self._channel_by_id(args)
        msg = self._find_message(channel, args.get("ts"))
        if msg is None:
            raise ApiError("message_not_found")
        if msg.user != self.workspace.bot_user_id:
            raise ApiError("cant_update_message")
        if channel.is_archived:
            raise ApiError("is_archived")
        text, blocks = self._content(args)
        if "text" in args:  # omitted fields keep their previous value, as in Slack
            msg.text = text
        if "blocks" in args:
            msg.blocks = blocks
        msg.edited = {"user": self.workspace.bot_user_id, "ts": self._next_ts()}
        return {"channel": channel.id, "ts": msg.ts, "text": msg.text, "message": msg.to_api()}

    def _chat_delete(self, args: Args) -> dict[str, Any]:
        """A bot token deletes the bot's own messages only, as in Slack."""
        channel = self._channel_by_id(args)
        msg = self._find_message(channel, args.get("ts"))
        if msg is None:
            raise ApiError("message_not_found")
        if msg.user != self.workspace.bot_user_id:
            raise ApiError("cant_delete_message")
        self.workspace.messages[channel.id].remove(msg)
        return {"channel": channel.id, "ts": msg.ts}

    def _chat_post_ephemeral(self, args: Args) -> dict[str, Any]:
        channel = self._post_target(args)
        user_id = str(args.get("user") or "")
        if self.workspace.user(user_id) is None:
            raise ApiError("user_not_found")
        self._ensure_postable(channel)
        if user_id not in channel.members:
            raise ApiError("user_not_in_channel")
        text, blocks = self._content(args)
        ts = self._next_ts()
        self._ephemerals.append(Ephemeral(channel.id, user_id, text, blocks, args.get("thread_ts"), ts))
        return {"message_ts": ts}

    def _chat_get_permalink(self, args: Args) -> dict[str, Any]:
        channel = self._channel_by_id(args)
        msg = self._find_message(channel, args.get("message_ts"))
        if msg is None:
            raise ApiError("message_not_found")
        link = f"https://{self.workspace.domain}.slack.com/archives/{channel.id}/p{msg.ts.replace('.', '')}"
        if msg.thread_ts and msg.thread_ts != msg.ts:
            link += f"?thread_ts={msg.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    def _post_target(self, args: Args) -> Channel:
        """chat.* targets: channel ID, name, or a user ID meaning the bot's DM."""
        value = str(args.get("channel") or "")
        user = self.workspace.user(value) if value.startswith(("U", "W")) else None
        if user is not None:
            if user.deleted:
                raise ApiError("user_disabled")
            if user.is_bot:
                raise ApiError("cannot_dm_bot")
            return self.workspace.dm_channel(user.id)
        return self._visible(self.workspace.channel(value) if value else None)

    def _ensure_postable(self, channel: Channel) -> None:
        if channel.is_archived:
            raise ApiError("is_archived")
        if self.workspace.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")

    def _content(self, args: Args) -> tuple[str, list[dict[str, Any]] | None]:
        text = "" if args.get("text") is None else str(args["text"])
        blocks = args.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise ApiError("invalid_blocks_format")
            problems = block_problems(blocks, MESSAGE_BLOCK_LIMIT)
            if problems:
                messages = [f"[ERROR] {p}" for p in problems]
                raise ApiError("invalid_blocks", errors=problems, response_metadata={"messages": messages})
        if not text and not blocks and not args.get("attachments"):
            raise ApiError("no_text")
        if len(text) > TEXT_LIMIT:
            raise ApiError("msg_too_long")
        return text, blocks
