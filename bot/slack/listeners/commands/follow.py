"""`/cdo list [mine|stalled|<function>]` and `/cdo status <id>`."""

from __future__ import annotations

from bot.core import initiatives
from bot.slack import blocks as bk
from bot.slack import messages
from bot.slack.listeners.commands.cdo import CommandCall


def handle_list(call: CommandCall) -> None:
    settings = call.hub.settings
    argument = call.argument.lower()
    function = next((f for f in settings.functions.values() if argument in (f.key, f.name.lower(), f.channel.lstrip("#"))), None)
    with call.hub.sessions() as session:
        if not argument:
            found, heading = initiatives.listing(session), "Open initiatives"
        elif argument == "mine":
            found, heading = initiatives.listing(session, mine=call.user), "Your open initiatives"
        elif argument == "stalled":
            found, heading = initiatives.listing(session, stalled=True), "Initiatives with a stalled pair"
        elif function is not None:
            found, heading = initiatives.listing(session, function=function.key), f"Open initiatives of {function.name}"
        else:
            known = ", ".join(f.key for f in settings.functions.values())
            call.ack(
                text=f"`{bk.user_text(call.argument, 100)}` is neither `mine`, `stalled` nor a function ({known}).",
                response_type="ephemeral",
            )
            return
        text, blocks = messages.listing(found, settings, heading)
    call.ack(text=text, blocks=blocks, response_type="ephemeral")


def parse_id(argument: str) -> int | None:
    raw = argument.strip().lstrip("#")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def handle_status(call: CommandCall) -> None:
    settings = call.hub.settings
    initiative_id = parse_id(call.argument)
    if initiative_id is None:
        call.ack(text=f"Which initiative? Try `{settings.slack.command} status 12`.", response_type="ephemeral")
        return
    with call.hub.sessions() as session:
        initiative = initiatives.get(session, initiative_id)
    if initiative is None:
        call.ack(text=f"There is no initiative #{initiative_id}.", response_type="ephemeral")
        return
    call.ack()
    link = call.hub.gateway.permalink(initiative.hub_channel, initiative.hub_ts) if initiative.hub_ts else None
    text, blocks = messages.status(initiative, settings, link)
    call.respond(text=text, blocks=blocks, response_type="ephemeral")


def handle_pairs(call: CommandCall) -> None:
    """Which pairs of functions work together, and which never meet."""
    from bot.core import digest
    from bot.slack.nudging import pairs_blocks

    settings = call.hub.settings
    with call.hub.sessions() as session:
        rows = digest.pair_rows(session, settings, call.hub.clock.now())
    never_met = [digest.first_step(settings, row.functions) for row in rows if row.state == digest.NEVER_MET]
    blocks = pairs_blocks(rows, never_met, settings)
    blocks.append(bk.context("Every pair, with dates: `cdo-hub report pairs`."))
    met = sum(1 for row in rows if row.state != digest.NEVER_MET)
    call.ack(text=f"{met} of {len(rows)} pairs of functions work together", blocks=blocks, response_type="ephemeral")
