"""The one slash command: `/cdo <subcommand> [arguments]`, dispatched by its first word."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack import blocks
from bot.slack.listeners.commands import commit, follow, propose, roadmap
from bot.slack.listeners.commands.call import CommandCall
from bot.slack.listeners.safely import answer_only

Handler = Callable[[CommandCall], None]


def handle_help(call: CommandCall, unknown: str | None = None) -> None:
    settings = call.hub.settings
    names = [function.name for function in settings.functions.values()]
    usages = [(usage, what) for usage, what, _handler in SUBCOMMANDS.values()]
    call.ack(
        text=blocks.help_text(settings.slack.command),
        blocks=blocks.help_blocks(settings.slack.command, usages, unknown=unknown, functions=names),
        response_type="ephemeral",
    )


# Each subcommand: its usage, what it does, and its handler (help lists exactly these).
SUBCOMMANDS: dict[str, tuple[str, str, Handler]] = {
    "propose": ("propose [title]", "propose a cross-functional initiative (opens a form)", propose.handle_propose),
    "list": ("list [mine|stalled|<function>]", "open initiatives: all, yours, with a stalled pair, or one function's", follow.handle_list),
    "status": ("status <id>", "one initiative: its routes, pairs and commitments", follow.handle_status),
    "commit": ("commit <id>", "record a commitment from one function to another", commit.handle_commit),
    "pairs": ("pairs", "which pairs of functions work together, and which never meet", follow.handle_pairs),
    "obstacles": ("obstacles", "what holds the journeys back: obstacles by open initiatives blocked", follow.handle_obstacles),
    "roadmap": ("roadmap <function> <function>", "two functions' joint roadmap for the next six months", roadmap.handle_roadmap),
    "help": ("help", "this message", handle_help),
}
OPEN_A_FORM = ("propose", "commit")  # their work after the answer cannot wait for a turn


def handle_cdo(ack: Ack, respond: Respond, client: WebClient, body: dict[str, Any], context: BoltContext) -> None:
    text = str(body.get("text") or "").strip()
    word, _, argument = text.partition(" ")
    subcommand = SUBCOMMANDS.get(word.lower())
    call = CommandCall(answer_only(ack) if word.lower() in OPEN_A_FORM else ack, respond, client, context["hub"], body, argument.strip())
    if subcommand is None:
        handle_help(call, unknown=word or None)
        return
    subcommand[2](call)
