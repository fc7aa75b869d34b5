"""`/cdo list [mine|stalled|<function>]`, `/cdo status <id>`, `/cdo pairs` and `/cdo obstacles`.

What a person may see is decided after the answer (it may ask Slack who is in which channel),
and told through the response URL; so are the pairs, read over every pair."""

from __future__ import annotations

from bot.app import audience, follow, obstacles
from bot.slack import blocks as bk
from bot.slack import messages
from bot.slack.digest import pairs_blocks
from bot.slack.listeners.commands.call import CommandCall, parse_id
from bot.slack.obstacles import ledger_blocks


def handle_list(call: CommandCall) -> None:
    settings = call.hub.settings
    if not follow.understood(call.hub, call.argument):
        known = ", ".join(f.key for f in settings.functions.values())
        call.ack(
            text=f"`{bk.user_text(call.argument, 100)}` is neither `mine`, `stalled` nor a function ({known}).",
            response_type="ephemeral",
        )
        return
    call.ack()
    found = follow.listing(call.hub, call.user, call.argument)
    assert found is not None  # understood above
    text, blocks = messages.listing(found.initiatives, settings, found.heading, restricted=found.restricted)
    call.respond(text=text, blocks=blocks, response_type="ephemeral")


def handle_status(call: CommandCall) -> None:
    settings = call.hub.settings
    initiative_id = parse_id(call.argument)
    if initiative_id is None:
        call.ack(text=f"Which initiative? Try `{settings.slack.command} status 12`.", response_type="ephemeral")
        return
    found = follow.initiative(call.hub, initiative_id)
    if found is None:
        call.ack(text=f"There is no initiative #{initiative_id}.", response_type="ephemeral")
        return
    call.ack()
    if not follow.may_see(call.hub, call.user, found):
        call.respond(text=audience.not_shown(initiative_id), response_type="ephemeral")
        return
    text, blocks = messages.status(found, settings, follow.thread_link(call.hub, found))
    call.respond(text=text, blocks=blocks, response_type="ephemeral")


def handle_pairs(call: CommandCall) -> None:
    """Which pairs of functions work together, and which never meet: read over every pair, so
    after the answer."""
    call.ack()
    found = follow.pairs(call.hub)
    blocks = pairs_blocks(found.rows, found.never_met, call.hub.settings)
    blocks.append(bk.context("Every pair, with dates: `cdo-hub report pairs`."))
    call.respond(text=f"{found.met} of {len(found.rows)} pairs of functions work together", blocks=blocks, response_type="ephemeral")


def handle_obstacles(call: CommandCall) -> None:
    """The obstacles ranked by the open initiatives they block, of those the person may see:
    counted over every initiative, so after the answer."""
    call.ack()
    found = obstacles.ledger(call.hub, call.user)
    blocking = sum(1 for row in found.rows if row.count)
    blocks = ledger_blocks(found.rows, call.hub.settings, call.hub.clock.now(), restricted=found.restricted)
    call.respond(text=f"{blocking} obstacle(s) hold open initiatives back", blocks=blocks, response_type="ephemeral")
