"""State every method family shares, and the helpers they all use.

EmulatorBase holds the workspace, the clock, the lock and the records of
ephemerals and views; the method families (methods/) and the server (server.py)
build on it. Helpers here are called with the lock held.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.sandbox.emulator.records import ApiError, Args, Ephemeral, ViewRecord
from bot.sandbox.workspace import Channel, Message, Workspace

# A method family's table: Web API method name -> handler returning the ok body.
Methods = dict[str, Callable[[Args], dict[str, Any]]]


def encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, value = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind == "offset" and value.isdigit():
            return int(value)
    except ValueError:
        pass
    raise ApiError("invalid_cursor")


class EmulatorBase:
    """The workspace, clock and lock, plus the ephemerals, views and triggers the methods keep."""

    def __init__(self, workspace: Workspace | None) -> None:
        self.workspace = workspace or Workspace.default()
        self.clock: Callable[[], float] = time.time
        self._lock = threading.RLock()  # reentrant: `when` predicates may call accessors
        self._last_ts = 0
        self._view_seq = 0
        self._triggers: dict[str, tuple[float, bool]] = {}  # id -> (issued_at, used)
        self._ephemerals: list[Ephemeral] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._view_log: list[ViewRecord] = []
        self._homes: dict[str, dict[str, Any]] = {}

    def _next_ts(self) -> str:
        """Strictly increasing, unique message ts derived from the clock."""
        micros = max(int(self.clock() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _visible(self, channel: Channel | None) -> Channel:
        """Private channels the bot is not in do not exist for it, as in Slack."""
        bot = self.workspace.bot_user_id
        if channel is None or ((channel.is_private or channel.is_im or channel.is_mpim) and bot not in channel.members):
            raise ApiError("channel_not_found")
        return channel

    def _channel_by_id(self, args: Args, key: str = "channel") -> Channel:
        return self._visible(self.workspace.channels.get(str(args.get(key) or "")))

    def _find_message(self, channel: Channel, ts: Any) -> Message | None:
        return next((m for m in self.workspace.messages[channel.id] if m.ts == ts), None)

    def _page(self, items: list[Any], args: Args, key: str) -> dict[str, Any]:
        try:
            limit = min(max(int(args.get("limit") or 100), 1), 1000)
        except ValueError:
            raise ApiError("invalid_limit") from None
        start = decode_cursor(args["cursor"]) if args.get("cursor") else 0
        end = start + limit
        next_cursor = encode_cursor(end) if end < len(items) else ""
        return {key: items[start:end], "response_metadata": {"next_cursor": next_cursor}}
