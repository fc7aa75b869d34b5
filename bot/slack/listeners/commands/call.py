"""What every subcommand of `/cdo` is handed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.app.hub import Hub


@dataclass(frozen=True)
class CommandCall:
    ack: Ack
    respond: Respond
    client: WebClient
    hub: Hub
    body: dict[str, Any]
    argument: str

    @property
    def user(self) -> str:
        return str(self.body.get("user_id") or "")


def parse_id(argument: str) -> int | None:
    """An initiative's number as people type it: `12` or `#12`."""
    raw = argument.strip().lstrip("#")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
