"""The one slash command: `/cdo <subcommand> [arguments]`, dispatched by its first word."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from slack_bolt import Ack, BoltContext, Respond

from bot.runtime import Runtime
from bot.slack import blocks


@dataclass(frozen=True)
class CommandCall:
    ack: Ack
    respond: Respond
    hub: Runtime
    body: dict
    argument: str

    @property
    def user(self) -> str:
        return self.body["user_id"]


def handle_help(call: CommandCall, unknown: str | None = None) -> None:
    settings = call.hub.settings
    names = [function.name for function in settings.functions.values()]
    call.ack(
        text=blocks.help_text(settings.slack.command),
        blocks=blocks.help_blocks(settings.slack.command, unknown=unknown, functions=names),
        response_type="ephemeral",
    )


def _subcommands() -> dict[str, Callable[[CommandCall], None]]:
    from bot.slack.listeners.commands import commit, follow, propose

    return {
        "help": handle_help,
        "propose": propose.handle_propose,
        "list": follow.handle_list,
        "status": follow.handle_status,
        "commit": commit.handle_commit,
    }


def handle_cdo(ack: Ack, respond: Respond, body: dict, context: BoltContext) -> None:
    text = (body.get("text") or "").strip()
    word, _, argument = text.partition(" ")
    call = CommandCall(ack, respond, context["hub"], body, argument.strip())
    handler = _subcommands().get(word.lower())
    if handler is None:
        handle_help(call, unknown=word or None)
        return
    handler(call)
