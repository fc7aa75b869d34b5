"""What is said in a private channel, or one shared with another organisation, stays there:
signed reply events against the emulator, whose conversations.info reports `is_private` and
`is_ext_shared` as Slack does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app.upkeep import upkeep
from bot.clock import FixedClock
from bot.models import Activity, Initiative, Outbox
from bot.sandbox import forms
from bot.sandbox.harness import LocalHub, demo_settings
from bot.slack.ids import View
from tests.scenario import steps
from tests.scenario.steps import reply, routed_ts, sqlite_only

SECRET = "Confidential: the vendor contract ends in March, 2M budget"


def make_private(hub, channel_id: str, members: set[str] | None = None) -> None:
    channel = hub.emulator.workspace.channels[channel_id]
    channel.is_private = True
    if members is not None:
        channel.members = {*members, "UBOT"}


def bot_lines(hub, initiative) -> list:
    return [m for m in hub.emulator.thread(initiative.hub_channel, initiative.hub_ts) if m.user == "UBOT"]


def activities(hub) -> list[tuple[str, str]]:
    with hub.runtime.sessions() as session:
        return [(a.function_key, a.user_id) for a in session.scalars(select(Activity).order_by(Activity.id))]


def everything_sent_to_the_hub_channel(hub) -> str:
    calls = hub.emulator.calls_to("chat.postMessage")
    return json.dumps([call.args for call in calls if call.args.get("channel") in ("C0HUB", "#cdo-hub")])


def test_a_reply_in_a_private_channel_is_counted_but_its_words_stay_there(hub):
    make_private(hub, "C0IT")
    initiative = steps.propose(hub, functions=["marketing", "it"])
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", SECRET, ts, channel_type="group")
    reply(hub, channel, "U0CIO", "And the 2M include the migration", ts, channel_type="group")

    assert activities(hub) == [("it", "U0IT1"), ("it", "U0CIO")]
    [line] = bot_lines(hub, initiative)  # one line a day for the channel, however many replies
    assert "*IT* replied in their channel" in line.text and "private" in line.text
    sent = everything_sent_to_the_hub_channel(hub)
    for leaked in ("vendor contract", "2M", "Sam Walker", "Ines Garcia", "U0IT1", "U0CIO"):
        assert leaked not in sent, leaked
    with hub.runtime.sessions() as session:  # the words were not even kept to be copied later
        payloads = json.dumps([row.payload for row in session.scalars(select(Outbox))])
    assert "vendor contract" not in payloads and "migration" not in payloads


def test_a_reply_in_a_slack_connect_channel_is_not_copied(hub):
    hub.emulator.workspace.channels["C0IT"].is_ext_shared = True
    initiative = steps.propose(hub, functions=["marketing", "it"])
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", SECRET, ts)
    assert activities(hub) == [("it", "U0IT1")]
    [line] = bot_lines(hub, initiative)
    assert "shared with another organisation" in line.text
    assert "vendor" not in everything_sent_to_the_hub_channel(hub)


@sqlite_only
def test_nothing_is_copied_into_a_hub_channel_shared_with_another_organisation(hub):
    hub.emulator.workspace.channels["C0HUB"].is_ext_shared = True
    initiative = steps.propose(hub, functions=["marketing", "it"])
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", "Public words, but the hub channel is shared outside", ts)
    [line] = bot_lines(hub, initiative)
    assert "this channel is shared with another organisation" in line.text and "Public words" not in line.text
    assert activities(hub) == [("it", "U0IT1")]


@sqlite_only
def test_into_a_narrower_audience_a_reply_is_copied_as_before(hub):
    # A private hub channel whose members all read #it (private too), and a public #marketing.
    make_private(hub, "C0IT", {"U0CDO", "U0CIO", "U0IT1"})
    make_private(hub, "C0HUB", {"U0CDO", "U0CIO"})
    initiative = steps.propose(hub, user_id="U0CIO", functions=["marketing", "it"])
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", "Everyone in the hub channel reads #it anyway", ts)
    channel, ts = routed_ts(initiative, "marketing")
    reply(hub, channel, "U0MKT1", "And #marketing is public", ts)
    texts = [line.blocks[0]["text"]["text"] for line in bot_lines(hub, initiative)]
    assert texts == [
        "*Sam Walker* in <#C0IT>: Everyone in the hub channel reads #it anyway",
        "*Lea Petit* in <#C0MKT>: And #marketing is public",
    ]


@sqlite_only
def test_a_hub_member_who_cannot_read_the_private_channel_stops_the_copy(hub):
    make_private(hub, "C0IT", {"U0CDO", "U0CIO", "U0IT1"})
    make_private(hub, "C0HUB", {"U0CDO", "U0CIO", "U0CMO"})  # the CMO is not in #it
    initiative = steps.propose(hub, functions=["marketing", "it"])
    channel, ts = routed_ts(initiative, "it")
    reply(hub, channel, "U0IT1", SECRET, ts)
    [line] = bot_lines(hub, initiative)
    assert "replied in their channel" in line.text and "vendor" not in line.text


@pytest.fixture
def timed(migrated_sqlite_url, emulator, retry_waits):
    """The hub with a clock the test moves (the outbox's backoff follows it)."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    with LocalHub(demo_settings(migrated_sqlite_url), emulator, clock=clock, migrate=False) as running:
        running.clock = clock  # type: ignore[attr-defined]
        yield running


def test_a_channel_made_private_before_the_copy_went_out_is_not_copied(timed, emulator):
    hub = timed
    initiative = steps.propose(hub, functions=["marketing", "it"])
    channel, ts = routed_ts(initiative, "it")
    # Slack refuses the copy for longer than the client retries: it stays owed, words and all.
    emulator.rate_limit("chat.postMessage", times=4, retry_after=0, when=lambda args: args.get("thread_ts") == initiative.hub_ts)
    reply(hub, channel, "U0IT1", SECRET, ts)
    with hub.runtime.sessions() as session:
        [owed] = session.scalars(select(Outbox).where(Outbox.kind == "mirror")).all()
        assert owed.status == "pending" and "vendor" in owed.payload["text"]

    make_private(hub, "C0IT")  # meanwhile, #it became private
    hub.runtime.directory.forget_channel("C0IT")
    hub.clock.set(hub.clock.now() + timedelta(minutes=1))
    upkeep(hub.runtime)  # what serve runs every 15 seconds

    [line] = bot_lines(hub, initiative)
    assert "replied in their channel" in line.text and "vendor" not in json.dumps(line.blocks or [])
    with hub.runtime.sessions() as session:
        row = session.get(Outbox, owed.id)
        assert row.status == "sent" and "text" not in row.payload


# --- a proposal made from a message ---------------------------------------------------------------


def shortcut(hub, channel: str, user: str, text: str):
    source = hub.emulator.add_user_message(channel, user, text)
    response = hub.send(
        "message_shortcut",
        user_id=user,
        callback_id="propose_from_message",
        channel_id=channel,
        message={"type": "message", "user": user, "ts": source.ts, "text": text},
        trigger_id=hub.emulator.new_trigger_id(),
        response_url=hub.emulator.new_response_url(),
    )
    assert response.status == 200


@sqlite_only
def test_a_proposal_from_a_private_message_warns_in_the_form_and_can_still_be_made(hub):
    make_private(hub, "C0HR")
    shortcut(hub, "C0HR", "U0HR1", "Onboarding: the new payroll vendor starts in May")
    opened, updated = hub.emulator.views
    assert (opened.method, updated.method, updated.id) == ("views.open", "views.update", opened.id)
    assert "private channel" not in json.dumps(opened.view)  # opened at once, before Slack was asked
    warning = json.dumps(updated.view["blocks"][0])
    assert "This message is from a private channel" in warning and "visible to everyone in #cdo-hub" in warning
    title = next(b for b in updated.view["blocks"] if b.get("block_id") == "title")
    assert title["element"]["initial_value"] == "Onboarding: the new payroll vendor starts in May"
    # Choosing a journey rebuilds the form: the warning stays.
    values = forms.proposal(journey="employee", functions=["hr", "it"])
    hub.send(
        "block_action",
        user_id="U0HR1",
        action_id="journey_changed",
        block_id="journey",
        trigger_id=hub.emulator.new_trigger_id(),
        view={**updated.view, "id": updated.id, "state": {"values": values}},
        selected_option={"value": "employee"},
    )
    rebuilt = hub.emulator.views[-1]
    assert rebuilt.method == "views.update" and "This message is from a private channel" in json.dumps(rebuilt.view["blocks"][0])
    submitted = hub.send(
        "view_submission",
        user_id="U0HR1",
        callback_id=View.PROPOSE.value,
        values=values,
        private_metadata=rebuilt.view["private_metadata"],
    )
    assert submitted.status == 200 and not submitted.body_text.strip()
    with hub.runtime.sessions() as session:
        assert session.scalars(select(Initiative.source_channel)).all() == ["C0HR"]


@sqlite_only
def test_a_proposal_from_a_slack_connect_message_warns_by_message_when_the_form_moved_on(hub):
    hub.emulator.workspace.channels["C0MKT"].is_ext_shared = True
    hub.emulator.fail("views.update", "hash_conflict")
    shortcut(hub, "C0MKT", "U0MKT1", "Our partner agency asks for the CRM export")
    [told] = hub.emulator.responses
    assert "shared with another organisation" in told.json["text"] and told.json["response_type"] == "ephemeral"


@sqlite_only
def test_a_proposal_from_a_public_message_opens_without_a_warning(hub):
    shortcut(hub, "C0MKT", "U0MKT1", "Our website campaign needs the CRM data")
    [opened] = hub.emulator.views
    assert "warning" not in json.dumps(opened.view["blocks"][0]) and hub.emulator.responses == []
