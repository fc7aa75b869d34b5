"""`/cdo commit <id>`: open the commitment modal for an initiative."""

from __future__ import annotations

from bot.app import commit
from bot.slack.forms import open_form
from bot.slack.listeners.commands.call import CommandCall, parse_id


def handle_commit(call: CommandCall) -> None:
    initiative_id = parse_id(call.argument)
    if initiative_id is None:
        call.ack(text=f"Which initiative? Try `{call.hub.settings.slack.command} commit 12`.", response_type="ephemeral")
        return
    call.ack()
    form = commit.commit_form(call.hub, call.user, initiative_id)
    problem = open_form(call.client, call.body["trigger_id"], form.view, form.problem, "commitment form")
    if problem:
        call.respond(text=problem, response_type="ephemeral")
