"""A request left unanswered counts against the function asked: after `stall_after_days`
working days its pair is stalled and the level-1 nudge names the request. A request is never
overdue, and one answered with another date no longer waits on the function asked."""

from __future__ import annotations

import json
from datetime import date

from bot.core import nudge_claims
from bot.db import transaction
from bot.models import Commitment
from tests.nudge_world import World, paris, sent, sqlite_only


def busy(world: World, initiative: int, *days: int) -> None:
    """Both functions reply on the initiative each of these days: silence never stalls them."""
    for day in days:
        world.act(initiative, "U0CMO", paris(day, 10))
        world.act(initiative, "U0CIO", paris(day, 10, 30))


def test_an_unanswered_request_stalls_the_pair_after_stall_days_and_the_nudge_names_it(world):
    initiative = world.propose(paris(2, 9))
    request = world.ask(initiative, paris(2, 11), due=date(2026, 3, 3), what="Clear the <!channel> ERP obstacle")
    busy(world, initiative, 2, 3, 4, 5, 6)
    # Friday: four working days unanswered, and its date has passed; a request is never overdue.
    assert sent(world.sweep(paris(6, 11))) == []
    assert world.pair(initiative).state == "active"

    busy(world, initiative, 9)
    pair_id = world.pair(initiative).id
    assert sent(world.sweep(paris(9, 11))) == [nudge_claims.pair_key(pair_id, 0, 1)]
    [message] = world.pair_nudges(initiative)
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert f"Unanswered: Marketing asked IT for “Clear the &lt;!channel&gt; ERP obstacle” by 2026-03-03 (request #{request}" in text
    assert "IT has not answered in 5 working days" in text
    assert "Overdue" not in text  # only promises are late
    assert "Answering the request" in text


@sqlite_only
def test_another_date_proposed_no_longer_counts_against_the_function_asked(world):
    initiative = world.propose(paris(2, 9))
    request = world.ask(initiative, paris(2, 11), due=date(2026, 4, 1))
    with transaction(world.hub.sessions) as session:
        stored = session.get(Commitment, request)
        stored.proposed_due, stored.proposed_by = date(2026, 4, 15), "U0CIO"
    busy(world, initiative, 2, 3, 4, 5, 6, 9)
    assert sent(world.sweep(paris(9, 11))) == []
    assert world.pair(initiative).state == "active"
