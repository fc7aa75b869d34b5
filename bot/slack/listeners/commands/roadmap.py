"""`/cdo roadmap <function> <function>`: a couple's joint roadmap, only to the person.

The two functions are understood from the configuration before the answer; what the person
may see (it may ask Slack who is in which channel) and the roadmap itself are read after it,
and told through the response URL."""

from __future__ import annotations

from bot.app import roadmap
from bot.core.naming import find_pair
from bot.slack import blocks as bk
from bot.slack.listeners.commands.call import CommandCall
from bot.slack.roadmap import roadmap_message


def handle_roadmap(call: CommandCall) -> None:
    settings = call.hub.settings
    pair = find_pair(settings, call.argument)
    if pair is None:
        known = ", ".join(f.key for f in settings.functions.values())
        said = f"`{bk.user_text(call.argument, 100)}` does not name" if call.argument else "Name"
        call.ack(
            text=f"{said} two different functions. Try `{settings.slack.command} roadmap marketing it` (functions: {known}).",
            response_type="ephemeral",
        )
        return
    call.ack()
    text, blocks = roadmap_message(roadmap.shown(call.hub, call.user, pair), settings)
    call.respond(text=text, blocks=blocks, response_type="ephemeral")
