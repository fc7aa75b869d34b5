"""The one slash command: `/cdo <subcommand> [arguments]`, dispatched by its first word."""

from __future__ import annotations

from typing import Callable

from slack_bolt import Ack, BoltContext

from bot.runtime import Runtime
from bot.slack import blocks

Handler = Callable[..., None]


def handle_help(ack: Ack, hub: Runtime, body: dict, argument: str, unknown: str | None = None) -> None:
    settings = hub.settings
    names = [function.name for function in settings.functions.values()]
    ack(
        text=blocks.help_text(settings.slack.command),
        blocks=blocks.help_blocks(settings.slack.command, unknown=unknown, functions=names),
        response_type="ephemeral",
    )


SUBCOMMANDS: dict[str, Handler] = {"help": handle_help}


def handle_cdo(ack: Ack, body: dict, context: BoltContext) -> None:
    hub: Runtime = context["hub"]
    text = (body.get("text") or "").strip()
    word, _, argument = text.partition(" ")
    handler = SUBCOMMANDS.get(word.lower())
    if handler is None:
        handle_help(ack, hub, body, argument, unknown=word or None)
        return
    handler(ack, hub, body, argument.strip())
