"""Every message the hub owes is recorded first and goes out once: through Slack outages,
rate limits and a sender that died after Slack took its message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app.outbox import drain
from bot.app.upkeep import upkeep
from bot.clock import FixedClock
from bot.core import initiatives
from bot.core import outbox as box
from bot.models import Initiative, Outbox
from bot.sandbox import forms
from bot.sandbox.harness import LocalHub, demo_settings
from bot.slack.ids import View
from tests.scenario.steps import propose

# Near the emulator's own clock: Slack's message timestamps and the hub's clock agree.
START = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def timed(migrated_url, emulator, retry_waits):
    """The hub over HTTP, with a clock the test moves; the client's pauses between retries are
    not slept (`retry_waits`), the outbox's own backoff follows the clock."""
    clock = FixedClock(START)
    with LocalHub(demo_settings(migrated_url), emulator, clock=clock, migrate=False) as running:
        running.clock = clock  # type: ignore[attr-defined]
        yield running


def hub_cards(hub) -> list:
    return [m for m in hub.emulator.messages("C0HUB") if not m.thread_ts]


def outbox_rows(hub) -> dict[str, Outbox]:
    with hub.runtime.sessions() as session:
        return {row.key: row for row in session.scalars(select(Outbox))}


def the_initiative(hub) -> Initiative:
    with hub.runtime.sessions() as session:
        found = initiatives.get(session, session.scalars(select(Initiative.id)).one())
    assert found is not None
    return found


def test_every_message_of_a_proposal_is_recorded_then_sent_once(hub):
    initiative = propose(hub, functions=["marketing", "it"])
    rows = outbox_rows(hub)
    key = initiative.id
    expected = {f"card:{key}", f"route:{key}:marketing", f"route:{key}:it", f"confirmation:{key}"}
    assert set(rows) == expected
    assert {row.status for row in rows.values()} == {box.SENT}
    assert len(hub_cards(hub)) == 1 and initiative.hub_ts == rows[f"card:{key}"].ts
    # The card carries its key, so a sender that died can find it again.
    assert hub_cards(hub)[0].metadata == {"event_type": "cdo_hub_message", "event_payload": {"key": f"card:{key}"}}
    assert drain(hub.runtime).sent == []  # nothing more owed
    assert len(hub.emulator.calls_to("chat.postMessage")) == 4  # card, two routes, confirmation


def test_a_rate_limited_hub_card_goes_out_once_slack_lets_it(timed, emulator, retry_waits):
    # Beyond the client's own retries (3 in the harness): the card stays owed.
    emulator.rate_limit("chat.postMessage", times=6, retry_after=0, when=lambda args: args.get("channel") == "#cdo-hub")
    propose(timed, functions=["marketing", "it"])
    initiative = the_initiative(timed)
    rows = outbox_rows(timed)
    assert initiative.hub_ts is None and initiative.status == "proposed"
    assert rows[f"card:{initiative.id}"].status == box.PENDING and rows[f"card:{initiative.id}"].error == "ratelimited"
    assert rows[f"route:{initiative.id}:it"].status == box.PENDING  # routes wait for the card they link to
    assert hub_cards(timed) == []
    assert len(retry_waits) == 3  # the client's own retries came first

    timed.clock.set(START + timedelta(seconds=6))  # the first backoff
    upkeep(timed.runtime)  # what serve runs every 15 seconds; two more 429s are left
    timed.clock.set(START + timedelta(seconds=20))
    upkeep(timed.runtime)
    initiative = the_initiative(timed)
    assert len(hub_cards(timed)) == 1 and initiative.hub_ts == hub_cards(timed)[0].ts and initiative.status == "active"
    assert {f.function_key: f.route_status for f in initiative.functions} == {"marketing": "posted", "it": "posted"}
    assert len(emulator.dms("U0CMO")) == 1  # the confirmation, once
    assert {row.status for row in outbox_rows(timed).values()} == {box.SENT}
    timed.clock.set(START + timedelta(minutes=5))
    upkeep(timed.runtime)
    assert len(hub_cards(timed)) == 1 and len(emulator.dms("U0CMO")) == 1


def test_server_errors_on_a_route_delay_it_and_the_confirmation_waits_for_it(timed, emulator):
    emulator.server_error("chat.postMessage", times=6, when=lambda args: args.get("channel") == "#it")
    propose(timed, functions=["marketing", "it"])
    initiative = the_initiative(timed)
    assert initiative.hub_ts is not None
    assert emulator.dms("U0CMO") == []  # the proposer hears when every route is settled
    for seconds in (6, 20, 45):
        timed.clock.set(START + timedelta(seconds=seconds))
        upkeep(timed.runtime)
    initiative = the_initiative(timed)
    assert {f.function_key: f.route_status for f in initiative.functions} == {"marketing": "posted", "it": "posted"}
    assert len(emulator.messages("C0IT")) == 1
    [confirmation] = emulator.dms("U0CMO")
    assert "routed post" in json.dumps(confirmation.blocks)


def test_the_proposer_hears_within_two_minutes_even_while_a_route_still_fails(timed, emulator):
    emulator.server_error("chat.postMessage", times=1000, when=lambda args: args.get("channel") == "#it")
    propose(timed, functions=["marketing", "it"])
    timed.clock.set(START + timedelta(minutes=2, seconds=1))
    upkeep(timed.runtime)
    [confirmation] = emulator.dms("U0CMO")
    assert "pending" in json.dumps(confirmation.blocks)
    assert outbox_rows(timed)[f"route:{the_initiative(timed).id}:it"].status == box.PENDING


def test_a_card_slack_took_before_its_sender_died_is_adopted_not_posted_again(timed, emulator):
    """The sender posted, then died before recording it: its lease runs out, the next sender
    finds the card in Slack by the key in its metadata and records it instead of posting."""
    hold = emulator.hold("chat.postMessage", when=lambda args: args.get("channel") == "#cdo-hub")
    # The request's own delivery takes the card and posts it; the answer never comes back to it.
    response = timed.send("view_submission", settle=False, user_id="U0CMO", callback_id=View.PROPOSE.value, values=forms.proposal())
    assert response.status == 200
    assert hold.reached.wait(10)
    initiative_id = the_initiative(timed).id
    key = f"card:{initiative_id}"
    assert len(hub_cards(timed)) == 1  # Slack has it
    row = outbox_rows(timed)[key]
    assert row.error == box.IN_FLIGHT and row.status == box.PENDING

    # The lease of the dead sender runs out; another sender (serve's upkeep) takes the card.
    timed.clock.set(START + box.LEASE + timedelta(seconds=1))
    upkeep(timed.runtime)
    hold.release.set()
    timed.settle()

    assert len(hub_cards(timed)) == 1  # adopted, not posted again
    initiative = the_initiative(timed)
    assert initiative.hub_ts == hub_cards(timed)[0].ts
    assert {f.route_status for f in initiative.functions} == {"posted"}
    assert emulator.calls_to("conversations.history")  # it looked before posting


@pytest.mark.parametrize("functions", [["marketing", "it"], ["marketing", "it", "hr"]])
def test_a_proposal_costs_one_slack_call_per_post(hub, functions):
    propose(hub, functions=["marketing", "hr"])  # the first learns the workspace's address (auth.test)
    hub.emulator.reset_records()
    propose(hub, functions=functions)
    methods = [call.method for call in hub.emulator.calls]
    # The card, one routed post per function, the confirmation: N + 2, links written, not asked.
    assert methods == ["chat.postMessage"] * (len(functions) + 2)
