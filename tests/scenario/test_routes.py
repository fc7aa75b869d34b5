"""Routes that fail never lose the initiative; 429s are waited out; hostile text stays text."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.models import Initiative
from bot.sandbox import forms
from bot.sandbox.harness import DEMO_CONFIG, LocalHub, demo_settings
from bot.slack.ids import View
from tests.scenario.steps import sqlite_only

EXTRA_FUNCTIONS = """
[functions.finance]
name = "Finance"
channel = "#finance"
leads = ["U0CEO"]

[functions.secret]
name = "Secret squad"
channel = "#secret-project"
leads = ["U0CEO"]

[functions.archive]
name = "Intranet"
channel = "#old-intranet"
leads = ["U0CEO"]

[functions.ghost]
name = "Ghost"
channel = "#nowhere"
leads = ["U0CEO"]
"""


@pytest.fixture
def wide_hub(migrated_url, emulator):
    settings = demo_settings(migrated_url, text=DEMO_CONFIG.read_text() + EXTRA_FUNCTIONS)
    with LocalHub(settings, emulator, migrate=False) as running:
        yield running
        assert not running.listener_errors


def submit(hub, **changes):
    return hub.send("view_submission", user_id="U0CMO", callback_id=View.PROPOSE.value, values=forms.proposal(**changes))


def rendered(message) -> str:
    return message.text + json.dumps(message.blocks)


def test_failed_routes_are_reported_and_the_rest_go_out(wide_hub):
    hub, emulator = wide_hub, wide_hub.emulator
    submit(hub, functions=["marketing", "it", "finance", "secret", "archive", "ghost"])

    assert len(emulator.messages("C0HUB")) == 1
    assert len(emulator.messages("C0MKT")) == 1
    assert len(emulator.messages("C0IT")) == 1
    # A public channel without the bot is joined, then posted in.
    assert [c.args.get("channel") for c in emulator.calls_to("conversations.join")] == ["C0FIN"]
    assert len(emulator.messages("C0FIN")) == 1
    assert emulator.messages("C0SECRET") == [] and emulator.messages("C0OLD") == []

    with hub.runtime.sessions() as session:
        initiative = session.scalars(select(Initiative)).one()
        routes = {f.function_key: (f.route_status, f.route_error) for f in initiative.functions}
    assert routes == {
        "marketing": ("posted", None),
        "it": ("posted", None),
        "finance": ("posted", None),
        "secret": ("failed", "channel_not_found"),
        "archive": ("failed", "is_archived"),
        "ghost": ("failed", "channel_not_found"),
    }

    confirmation, notice = emulator.dms("U0CMO")
    assert "3 route(s) did not go out" in rendered(notice)
    for words in ("#secret-project", "invite", "#old-intranet", "archived", "functions.ghost.channel"):
        assert words in rendered(notice)
    [admin_notice] = emulator.dms("U0CDO")
    assert admin_notice.blocks == notice.blocks

    # Every error Slack returned is one the hub handled: a joined channel or a reported route.
    errors = sorted((c.method, c.response["error"]) for c in emulator.errors())
    assert errors == [
        ("chat.postMessage", "channel_not_found"),
        ("chat.postMessage", "channel_not_found"),
        ("chat.postMessage", "is_archived"),
        ("chat.postMessage", "not_in_channel"),
    ]

    status = hub.command(f"status {initiative.id}", user_id="U0CMO")
    assert status.status == 200
    [answer] = emulator.responses
    text = json.dumps(answer.json["blocks"])
    assert "failed" in text and "posted" in text and "is archived" in text


def test_a_429_is_waited_out_and_the_post_goes_out_once(hub, retry_waits):
    emulator = hub.emulator
    emulator.rate_limit("chat.postMessage", times=1, retry_after=1, when=lambda args: args.get("channel") in ("C0IT", "#it"))
    submit(hub, functions=["marketing", "it"])
    assert len(emulator.messages("C0IT")) == 1
    statuses = [c.status for c in emulator.calls_to("chat.postMessage") if c.args.get("channel") in ("C0IT", "#it")]
    assert statuses == [429, 200]
    assert len(retry_waits) == 1 and retry_waits[0] >= 1  # Retry-After was honoured
    with hub.runtime.sessions() as session:
        initiative = session.scalars(select(Initiative)).one()
        assert {f.function_key: f.route_status for f in initiative.functions} == {"marketing": "posted", "it": "posted"}


def test_an_unreachable_hub_channel_still_keeps_the_initiative(hub):
    hub.emulator.fail("chat.postMessage", "channel_not_found", when=lambda args: args.get("channel") in ("C0HUB", "#cdo-hub"))
    submit(hub, functions=["marketing", "it"])
    with hub.runtime.sessions() as session:
        initiative = session.scalars(select(Initiative)).one()
        assert initiative.hub_ts is None and initiative.status == "proposed"
    [confirmation] = hub.emulator.dms("U0CMO")
    assert "could not be posted" in rendered(confirmation)


HOSTILE = "<!channel> @here <!everyone> <@U0CEO> <https://evil.example|your bank> & co"


@sqlite_only
def test_hostile_text_cannot_notify_or_mislead(hub):
    submit(hub, title=HOSTILE[:150], problem=HOSTILE * 10, obstacles=HOSTILE, functions=["marketing", "it"], sponsor="U0CHRO")
    posted = [c for c in hub.emulator.calls_to("chat.postMessage") if c.status == 200]
    assert len(posted) >= 4
    for call in posted:
        payload = json.dumps(call.args)
        for forbidden in ("<!channel>", "<!everyone>", "<!here", "<https://evil", "<@U0CEO>"):
            assert forbidden not in payload, (forbidden, call.args.get("channel"))
        assert "link_names" not in call.args
    [card] = hub.emulator.messages("C0HUB")
    assert "&lt;!channel&gt;" in json.dumps(card.blocks)
    sections = [b for b in card.blocks if b["type"] == "section" and "text" in b]
    assert all(b["text"].get("verbatim") is True for b in sections)


@sqlite_only
def test_long_text_is_shortened_within_block_kit_limits(hub):
    submit(hub, problem="&" * 2999, obstacles="<" * 999, functions=["marketing", "it"])
    assert hub.emulator.errors() == []
    [card] = hub.emulator.messages("C0HUB")
    for block in card.blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
