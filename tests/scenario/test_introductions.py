"""Introductions through signed requests against the emulator, on SQLite and Postgres: HR and
IT, then HR and Marketing, who never met, are introduced in a group DM to their leads, in
working hours, once; "Not now" and "Propose this" for the leads only; the proposal records
the introduction it came from, once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import outbox
from bot.app.introduce import run_introductions
from bot.clock import FixedClock
from bot.models import Introduction
from bot.sandbox import forms
from bot.sandbox.harness import LocalHub, demo_settings
from bot.slack.ids import View
from tests.nudge_world import paris
from tests.scenario import steps


@pytest.fixture
def clock():
    return FixedClock(paris(2, 10))


@pytest.fixture
def hub(migrated_url, emulator, clock):
    with LocalHub(demo_settings(migrated_url), emulator, clock=clock, migrate=False) as running:
        yield running
        assert not running.listener_errors, running.listener_errors


def group_dms(emulator) -> list:
    channels = [c for c in emulator.workspace.channels.values() if c.is_mpim]
    return [m for c in channels for m in emulator.messages(c.id)]


def button(message, action_id: str) -> dict:
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} button")


def introductions(hub) -> list[Introduction]:
    with hub.runtime.sessions() as session:
        return list(session.scalars(select(Introduction).order_by(Introduction.id)))


def test_pairs_that_never_met_are_introduced_once_a_week_a_person(hub, clock):
    report = run_introductions(hub.runtime)
    # Every lead is in two of the three pairs: one introduction each this week.
    [line] = report.lines
    assert (line.functions, line.status, line.idea) == (("hr", "it"), "sent", "An onboarding journey ready on day one")
    assert set(line.recipients) == {"U0CHRO", "U0CIO"} and line.channel.startswith("G")
    [message] = group_dms(hub.emulator)
    channel = hub.emulator.workspace.channels[message.channel]
    assert channel.members == {"U0CHRO", "U0CIO", hub.emulator.workspace.bot_user_id}
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert "*IT* and *HR*, meet each other" in text and "never worked together" in text
    assert "introduction_propose" in text and "introduction_not_now" in text

    assert run_introductions(hub.runtime).lines == []  # the same day: nothing more
    clock.set(paris(5, 11))
    assert run_introductions(hub.runtime).lines == []  # within the week: the leads had theirs

    clock.set(paris(10, 10))  # a week later: HR and Marketing
    [line] = run_introductions(hub.runtime).lines
    assert line.functions == ("hr", "marketing") and line.idea == "A candidate journey as good as our customer journey"
    assert len(group_dms(hub.emulator)) == 2


def test_not_now_is_for_the_leads_and_quiets_the_pair(hub, clock):
    run_introductions(hub.runtime)
    [message] = group_dms(hub.emulator)
    value = button(message, "introduction_not_now")["value"]

    press(hub, message, "U0MKT1", "introduction_not_now", value)
    assert "Only the leads of the two functions" in hub.emulator.responses[-1].json["text"]
    assert introductions(hub)[0].answer is None

    press(hub, message, "U0CIO", "introduction_not_now", value)
    assert "will not introduce you again for 90 days" in hub.emulator.responses[-1].json["text"]
    [introduction] = introductions(hub)
    assert (introduction.answer, introduction.answered_by) == ("not_now", "U0CIO")
    assert "answered *Not now*" in json.dumps(hub.emulator.message(message.channel, message.ts).blocks)

    press(hub, message, "U0CHRO", "introduction_not_now", value)
    assert "Already answered" in hub.emulator.responses[-1].json["text"]

    # 89 days on, HR and IT are still left alone; on the 91st they may be introduced again.
    clock.set(paris(2, 10) + timedelta(days=87))  # a Thursday
    assert ("hr", "it") not in {line.functions for line in run_introductions(hub.runtime).lines}


def test_propose_this_prefills_the_form_and_the_initiative_remembers_the_introduction(hub, clock):
    run_introductions(hub.runtime)
    clock.set(paris(10, 10))
    run_introductions(hub.runtime)
    message = group_dms(hub.emulator)[-1]
    value = button(message, "introduction_propose")["value"]

    press(hub, message, "U0MKT1", "introduction_propose", value)
    assert "Only the leads of the two functions" in hub.emulator.responses[-1].json["text"]
    assert hub.emulator.views == []

    press(hub, message, "U0CHRO", "introduction_propose", value)
    [opened] = hub.emulator.views
    form = json.dumps(opened.view, ensure_ascii=False)
    assert "A candidate journey as good as our customer journey" in form
    functions = next(b for b in opened.view["blocks"] if b.get("block_id") == "functions")
    assert {o["value"] for o in functions["element"]["initial_options"]} == {"hr", "marketing"}

    values = forms.proposal(title="A candidate journey as good as our customer journey", journey="employee", functions=["hr", "marketing"])
    meta = opened.view["private_metadata"]
    response = hub.send("view_submission", user_id="U0CHRO", callback_id=View.PROPOSE.value, values=values, private_metadata=meta)
    assert response.status == 200 and not response.body_text.strip(), response.body_text
    introduction = introductions(hub)[-1]
    assert introduction.answer == "proposed" and introduction.initiative_id is not None

    # A second click, and a second form sent from an earlier click, change nothing.
    press(hub, message, "U0CMO", "introduction_propose", value)
    assert f"already proposed as initiative #{introduction.initiative_id}" in hub.emulator.responses[-1].json["text"]
    again = hub.send("view_submission", user_id="U0CMO", callback_id=View.PROPOSE.value, values=values, private_metadata=meta)
    assert "already proposed" in again.body_text


def test_an_introduction_waits_for_working_hours(hub, clock):
    clock.set(paris(7, 10))  # Saturday
    [line] = run_introductions(hub.runtime).lines
    assert line.status == "deferred" and line.at == paris(9, 9) and line.channel is None
    assert group_dms(hub.emulator) == []
    clock.set(paris(9, 8, 59))
    assert outbox.drain(hub.runtime).sent == []
    clock.set(paris(9, 9))
    assert outbox.drain(hub.runtime).sent == ["introduction:1"]
    assert len(group_dms(hub.emulator)) == 1
    assert outbox.drain(hub.runtime).sent == []  # never twice


def test_an_introduction_for_a_function_no_longer_configured_is_refused(hub, clock, migrated_url):
    run_introductions(hub.runtime)
    [message] = group_dms(hub.emulator)
    value = button(message, "introduction_propose")["value"]
    with hub.runtime.sessions() as session, session.begin():
        session.get(Introduction, 1).function_b = "legal"
    press(hub, message, "U0CHRO", "introduction_propose", value)
    assert "no longer configured (legal)" in hub.emulator.responses[-1].json["text"]
    assert hub.emulator.views == []


def test_the_digest_and_report_pairs_tell_of_introductions(hub, clock):
    from bot.core import digest
    from bot.reports import REPORTS
    from bot.slack.digest import digest_message

    run_introductions(hub.runtime)
    [message] = group_dms(hub.emulator)
    value = button(message, "introduction_not_now")["value"]
    steps.click(hub, user_id="U0CHRO", action_id="introduction_not_now", value=value, channel_id=message.channel, message_ts=message.ts)
    clock.set(paris(4, 10))
    with hub.runtime.sessions() as session:
        built = digest.build(session, hub.runtime.settings, clock.now())
        rows = REPORTS["pairs"](session, hub.runtime.settings, clock.now())
    assert built.introductions is not None
    assert built.introductions.introduced == (("hr", "it"),) and built.introductions.not_now == (("hr", "it"),)
    text = json.dumps(digest_message(built, hub.runtime.settings)[1], ensure_ascii=False)
    assert "Introductions this week" in text and "Not now: IT × HR" in text
    [row] = [r for r in rows if sorted(r["functions"]) == ["hr", "it"]]
    assert row["introduction"] == "An onboarding journey ready on day one" and row["introduced_at"].startswith("2026-03-02")
    assert all(r["introduced_at"] is None for r in rows if sorted(r["functions"]) != ["hr", "it"])


def test_a_persons_introductions_are_exported_and_forgotten(hub, clock):
    from bot.app import privacy

    run_introductions(hub.runtime)
    [message] = group_dms(hub.emulator)
    value = button(message, "introduction_not_now")["value"]
    steps.click(hub, user_id="U0CIO", action_id="introduction_not_now", value=value, channel_id=message.channel, message_ts=message.ts)
    [exported] = privacy.export(hub.runtime, "U0CIO")["introductions"]
    assert exported["functions"] == ["hr", "it"] and exported["answer"] == "not_now"
    privacy.forget(hub.runtime, "U0CIO")
    [introduction] = introductions(hub)
    assert introduction.recipients == ["U0CHRO"] and introduction.answered_by == "erased"
    assert privacy.export(hub.runtime, "U0CIO")["introductions"] == []


def test_a_pair_that_starts_working_together_before_its_introduction_is_not_introduced(hub, clock):
    clock.set(paris(7, 10))  # Saturday: the introduction waits for Monday
    [line] = run_introductions(hub.runtime).lines
    assert line.functions == ("hr", "it") and line.status == "deferred"
    steps.propose(hub, user_id="U0CHRO", title="Laptops ready on day one", functions=["hr", "it"], journey="employee")
    clock.set(paris(9, 9))
    outbox.drain(hub.runtime)
    [introduction] = introductions(hub)
    assert introduction.status == "cancelled" and introduction.sent_at is None
    assert group_dms(hub.emulator) == []


def press(hub, message, user: str, action: str, value: str) -> None:
    """`user` presses the button `action` (carrying `value`) on the introduction `message`."""
    steps.click(
        hub, user_id=user, action_id=action, value=value, channel_id=message.channel, message_ts=message.ts, message=message.to_api()
    )
