"""The buttons of a nudge, clicked through signed requests: who may click, what each does,
and that a double click changes the state once. And a broken install on /healthz."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from sqlalchemy import select

from bot.app.sweep import run_sweep
from bot.clock import FixedClock
from bot.models import Activity, Pair
from bot.sandbox.harness import LocalHub, demo_settings
from tests.nudge_world import paris
from tests.scenario import steps


@pytest.fixture
def clock():
    return FixedClock(paris(2, 10))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub(request, emulator, clock):
    """Clicks that change state run on each database; the others on SQLite (`sqlite_only`)."""
    url = request.getfixturevalue(f"migrated_{request.param}_url")
    with LocalHub(demo_settings(url), emulator, clock=clock, migrate=False) as running:
        yield running
        assert not running.listener_errors, running.listener_errors


sqlite_only = pytest.mark.parametrize("hub", ["sqlite"], indirect=True)


@pytest.fixture
def nudged(hub, clock):
    """An initiative whose pair was nudged on Monday the 9th at 10:00; its nudge message."""
    initiative = steps.propose(hub)
    clock.set(paris(9, 10))
    assert [line.status for line in run_sweep(hub.runtime).lines] == ["sent"]
    [message] = [m for m in hub.emulator.thread(initiative.hub_channel, initiative.hub_ts) if "nudge_on_it" in json.dumps(m.blocks)]
    clock.set(paris(9, 11))
    return initiative, message


def click(hub, message, action_id: str, user: str):
    block = next(b for b in message.blocks if any(e.get("action_id") == action_id for e in b.get("elements", [])))
    value = next(e["value"] for e in block["elements"] if e["action_id"] == action_id)
    response = steps.click(
        hub,
        user_id=user,
        action_id=action_id,
        value=value,
        channel_id=message.channel,
        block_id=block["block_id"],
        message=message.to_api(),
    )
    assert response.status == 200
    return hub.emulator.responses[-1].json["text"]


def pair_of(hub, initiative) -> Pair:
    with hub.runtime.sessions() as session:
        return session.scalars(select(Pair).where(Pair.initiative_id == initiative.id)).one()


def on_it_rows(hub) -> list[tuple[str, str]]:
    with hub.runtime.sessions() as session:
        return [(a.user_id, a.function_key) for a in session.scalars(select(Activity).where(Activity.kind == "nudge_on_it"))]


def test_we_are_on_it_records_the_functions_activity_once(hub, nudged):
    initiative, message = nudged
    assert click(hub, message, "nudge_on_it", "U0CIO").startswith("Thanks: recorded as activity")
    assert click(hub, message, "nudge_on_it", "U0CIO") == "Already recorded: thanks."
    assert on_it_rows(hub) == [("U0CIO", "it")]
    assert pair_of(hub, initiative).last_activity_a == paris(9, 11)  # "it" is function_a
    updated = hub.emulator.message(message.channel, message.ts)
    rendered = json.dumps(updated.blocks)
    assert rendered.count("<@U0CIO> is on it.") == 1
    assert "nudge_on_it" in rendered  # the buttons stay for the other function


@sqlite_only
def test_someone_else_is_refused_and_nothing_changes(hub, nudged):
    initiative, message = nudged
    before = pair_of(hub, initiative)
    for action in ("nudge_on_it", "nudge_snooze", "nudge_blocked"):
        assert click(hub, message, action, "U0HR1").startswith("Sorry, only the leads of Marketing × IT")
    after = pair_of(hub, initiative)
    assert (after.nudge_round, after.snoozed_until, after.blocked_by) == (before.nudge_round, before.snoozed_until, before.blocked_by)
    assert on_it_rows(hub) == []
    assert hub.emulator.calls_to("chat.update") == []


@sqlite_only
def test_hub_staff_may_answer_but_their_click_is_no_functions_activity(hub, nudged):
    _, message = nudged
    assert "nothing was recorded" in click(hub, message, "nudge_on_it", "U0CDO")
    assert on_it_rows(hub) == []


def test_snooze_a_week_once_however_often_it_is_clicked(hub, nudged, clock):
    initiative, message = nudged
    assert click(hub, message, "nudge_snooze", "U0CMO") == "No nudges for Marketing × IT until Mon 16 Mar."
    assert click(hub, message, "nudge_snooze", "U0CIO") == "Marketing × IT is snoozed already, until Mon 16 Mar."
    pair = pair_of(hub, initiative)
    assert (pair.state, pair.nudge_round, pair.snoozed_until) == ("snoozed", 1, paris(16, 11))
    updated = hub.emulator.message(message.channel, message.ts)
    assert "Snoozed until Mon 16 Mar by <@U0CMO>" in json.dumps(updated.blocks)
    assert "nudge_snooze" not in json.dumps(updated.blocks)  # its buttons are gone
    clock.set(paris(16, 10))
    assert run_sweep(hub.runtime).lines == []  # no escalation while snoozed


def test_blocked_tells_the_sponsor_now_once(hub, nudged):
    initiative, message = nudged
    assert click(hub, message, "nudge_blocked", "U0CIO").endswith("The sponsor (or the executives) is told now.")
    assert click(hub, message, "nudge_blocked", "U0CMO") == "Already done: an executive was asked to help Marketing × IT."
    [dm] = [m for m in hub.emulator.dms("U0CEO") if "nudge_again" in json.dumps(m.blocks)]
    assert "<@U0CIO> says the pair is blocked and needs you." in json.dumps(dm.blocks)
    assert pair_of(hub, initiative).state == "escalated"


@sqlite_only
def test_a_click_on_an_old_round_changes_nothing(hub, nudged):
    initiative, message = nudged
    click(hub, message, "nudge_snooze", "U0CMO")
    assert click(hub, message, "nudge_blocked", "U0CIO").startswith("This nudge belongs to an earlier round")
    assert pair_of(hub, initiative).blocked_by is None


@sqlite_only
def test_a_broken_install_shows_on_healthz(hub, clock):
    steps.propose(hub)
    hub.emulator.revoke_token()
    clock.set(paris(9, 10))
    report = run_sweep(hub.runtime)
    assert report.install_error == "token_revoked"
    try:
        urllib.request.urlopen(hub.url + "/healthz", timeout=5)
        raise AssertionError("/healthz answered 200")
    except urllib.error.HTTPError as error:
        assert error.code == 503
        assert json.loads(error.read())["slack"] == "install error: token_revoked"


@sqlite_only
def test_a_button_in_a_message_of_several_pairs_answers_for_its_own_pair(hub, clock):
    initiative = steps.propose(hub, functions=["marketing", "it", "hr"])
    clock.set(paris(9, 10))
    assert [line.status for line in run_sweep(hub.runtime).lines] == ["sent"] * 3
    [message] = [m for m in hub.emulator.thread(initiative.hub_channel, initiative.hub_ts) if "nudge_on_it" in json.dumps(m.blocks)]
    buttons = [block for block in message.blocks if block["type"] == "actions"]
    assert len(buttons) == 3
    second = buttons[1]
    snooze = next(e for e in second["elements"] if e["action_id"] == "nudge_snooze")
    clock.set(paris(9, 11))
    response = steps.click(
        hub,
        user_id="U0CEO",  # the sponsor may answer for any pair of the initiative
        action_id="nudge_snooze",
        value=snooze["value"],
        channel_id=message.channel,
        block_id=second["block_id"],
        message=message.to_api(),
    )
    assert response.status == 200 and hub.emulator.responses[-1].json["text"].startswith("No nudges for ")
    with hub.runtime.sessions() as session:
        states = {pair.id: pair.state for pair in session.scalars(select(Pair).where(Pair.initiative_id == initiative.id))}
    snoozed = json.loads(snooze["value"])["pair"]
    assert states.pop(snoozed) == "snoozed" and set(states.values()) == {"stalled"}
    updated = hub.emulator.message(message.channel, message.ts)
    assert [block.get("block_id") for block in updated.blocks if block["type"] == "actions"] == [
        buttons[0]["block_id"],
        buttons[2]["block_id"],
    ]
    assert "Snoozed until" in json.dumps(updated.blocks)
