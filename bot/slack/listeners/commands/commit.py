"""`/cdo commit <id>`: open the commitment modal for an initiative."""

from __future__ import annotations

from bot.slack.commitments import open_commit_form
from bot.slack.listeners.commands.cdo import CommandCall
from bot.slack.listeners.commands.follow import parse_id


def handle_commit(call: CommandCall) -> None:
    initiative_id = parse_id(call.argument)
    if initiative_id is None:
        call.ack(text=f"Which initiative? Try `{call.hub.settings.slack.command} commit 12`.", response_type="ephemeral")
        return
    call.ack()
    problem = open_commit_form(call.hub, call.body["trigger_id"], call.user, initiative_id)
    if problem:
        call.respond(text=problem, response_type="ephemeral")
