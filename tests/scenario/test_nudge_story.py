"""The issue's story, through signed requests against the emulator, on SQLite and Postgres: an
initiative between Marketing and IT stays silent. It gets one pair nudge, in working hours on
a weekday, never on Saturday or at night, never twice; two weeks later the sponsor gets one
executive DM; the sponsor's "Nudge them again" nudges the pair once more."""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest

from bot.app.sweep import run_sweep
from bot.clock import FixedClock
from bot.sandbox.harness import LocalHub, demo_settings
from tests.nudge_world import PARIS, paris
from tests.scenario import steps


@pytest.fixture
def clock():
    return FixedClock(paris(2, 10))


@pytest.fixture
def hub(migrated_url, emulator, clock):
    with LocalHub(demo_settings(migrated_url), emulator, clock=clock, migrate=False) as running:
        yield running
        assert not running.listener_errors, running.listener_errors


def button(message, action_id: str) -> tuple[dict, dict]:
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return block, element
    raise AssertionError(f"no {action_id} button")


def test_a_silent_marketing_it_initiative_is_nudged_then_escalated_once(hub, clock):
    emulator = hub.emulator
    initiative = steps.propose(hub, functions=["marketing", "it"], sponsor="U0CEO")
    thread = (initiative.hub_channel, initiative.hub_ts)

    # A sweep every three hours, day and night, for three weeks.
    sent = []
    moment = paris(2, 10)
    while moment < paris(23, 10):
        clock.set(moment)
        sent += [(moment, line) for line in run_sweep(hub.runtime).lines if line.status == "sent"]
        moment += timedelta(hours=3)

    levels = [(at, line.delivery.level) for at, line in sent]
    assert [level for _, level in levels] == [1, 2]
    (nudged_at, _), (escalated_at, _) = levels
    for at in (nudged_at, escalated_at):
        local = at.astimezone(PARIS)
        assert local.weekday() < 5 and time(9) <= local.time() < time(18), local
    assert nudged_at == paris(9, 10)  # five working days after Monday the 2nd, at the first sweep in hours
    assert escalated_at == paris(16, 10)  # five more working days with no joint activity

    [pair_nudge] = [m for m in emulator.thread(*thread) if "nudge_on_it" in json.dumps(m.blocks)]
    assert "<@U0CMO> <@U0CIO>" in json.dumps(pair_nudge.blocks)
    [executive] = [m for m in emulator.dms("U0CEO") if "nudge_again" in json.dumps(m.blocks)]
    text = json.dumps(executive.blocks, ensure_ascii=False)
    assert "One customer view across our three ERP instances" in text and "Marketing × IT" in text
    assert "No joint activity for 10 working days" in text  # Monday the 2nd to Monday the 16th

    # The sponsor asks for one more nudge: it goes to the thread now (a week after the first).
    clock.set(paris(23, 10, 30))
    block, again = button(executive, "nudge_again")
    response = steps.click(
        hub,
        user_id="U0CEO",
        action_id="nudge_again",
        value=again["value"],
        channel_id=executive.channel,
        block_id=block["block_id"],
        message=_api(executive),
    )
    assert response.status == 200
    pair_nudges = [m for m in emulator.thread(*thread) if "nudge_on_it" in json.dumps(m.blocks)]
    assert len(pair_nudges) == 2
    [reply] = emulator.responses[-1:]
    assert reply.json["text"].endswith("Their leads are nudged again now.")
    updated = emulator.message(executive.channel, executive.ts)
    assert "<@U0CEO> asked for the pair to be nudged again." in json.dumps(updated.blocks)
    # A second click changes nothing.
    steps.click(
        hub,
        user_id="U0CEO",
        action_id="nudge_again",
        value=again["value"],
        channel_id=executive.channel,
        block_id=block["block_id"],
        message=_api(executive),
    )
    assert len([m for m in emulator.thread(*thread) if "nudge_on_it" in json.dumps(m.blocks)]) == 2
    assert "Already done" in emulator.responses[-1].json["text"]


def _api(message) -> dict:
    return message.to_api()
