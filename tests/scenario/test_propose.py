"""Proposing an initiative and routing it, through signed requests against the emulator."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.app.people import sync_users
from bot.models import Commitment, Initiative, Pair
from bot.sandbox import forms
from bot.slack.ids import View
from tests.scenario.steps import sqlite_only

TITLE = "One customer view across our three ERP instances"


def submit(hub, values, *, user_id="U0CMO", private_metadata=""):
    return hub.send("view_submission", user_id=user_id, callback_id=View.PROPOSE.value, values=values, private_metadata=private_metadata)


def count_initiatives(hub) -> int:
    with hub.runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Initiative))


@sqlite_only
def test_propose_opens_the_modal_with_keyword_functions_preselected(hub):
    response = hub.command(f"propose {TITLE}", user_id="U0CMO", channel_id="C0MKT")
    assert response.status == 200
    [opened] = hub.emulator.views
    view = opened.view
    assert view["callback_id"] == View.PROPOSE.value
    title_block = next(b for b in view["blocks"] if b.get("block_id") == "title")
    assert title_block["element"]["initial_value"] == TITLE
    functions = next(b for b in view["blocks"] if b.get("block_id") == "functions")
    assert [o["value"] for o in functions["element"]["initial_options"]] == ["it"]
    sponsor = next(b for b in view["blocks"] if b.get("block_id") == "sponsor")
    assert sponsor["element"]["initial_user"] == "U0CEO"


def test_story_marketing_and_it_get_one_card_two_routes_and_a_confirmation(hub):
    emulator = hub.emulator
    hub.command(f"propose {TITLE}", user_id="U0CMO", channel_id="C0MKT")
    response = submit(hub, forms.proposal(title=TITLE, functions=["marketing", "it"]))
    assert response.status == 200
    assert not response.body_text.strip()  # an empty ack closes the modal

    [card] = emulator.messages("C0HUB")
    assert TITLE in json.dumps(card.blocks)
    [marketing_post] = emulator.messages("C0MKT")
    [it_post] = emulator.messages("C0IT")
    for post in (marketing_post, it_post):
        rendered = json.dumps(post.blocks)
        assert TITLE in rendered
        assert "Open discussion" in rendered and "Commit" in rendered
        assert "/archives/C0HUB/p" in rendered  # links the hub thread
    [confirmation] = emulator.dms("U0CMO")
    rendered = json.dumps(confirmation.blocks)
    assert "/archives/C0HUB/p" in rendered and "/archives/C0MKT/p" in rendered and "/archives/C0IT/p" in rendered
    assert emulator.errors() == []

    with hub.runtime.sessions() as session:
        initiative = session.scalars(select(Initiative)).one()
        assert initiative.status == "active"
        assert (initiative.hub_channel, initiative.hub_ts) == ("C0HUB", card.ts)
        reasons = {f.function_key: f.reason for f in initiative.functions}
        assert reasons == {"marketing": "customer journey", "it": "keyword 'ERP' in title"}
        routes = {f.function_key: (f.route_status, f.route_channel, f.route_ts) for f in initiative.functions}
        assert routes == {"marketing": ("posted", "C0MKT", marketing_post.ts), "it": ("posted", "C0IT", it_post.ts)}
        assert [(p.function_a, p.function_b) for p in initiative.pairs] == [("it", "marketing")]


@sqlite_only
def test_three_functions_make_three_pairs(hub):
    submit(hub, forms.proposal(functions=["hr", "marketing", "it"], journey="employee"))
    with hub.runtime.sessions() as session:
        pairs = session.scalars(select(Pair).order_by(Pair.function_a, Pair.function_b)).all()
        assert [(p.function_a, p.function_b) for p in pairs] == [("hr", "it"), ("hr", "marketing"), ("it", "marketing")]


@sqlite_only
@pytest.mark.parametrize(
    "changes, block, words",
    [
        ({"title": ""}, "title", "title"),
        ({"title": "x" * 151}, "title", "under 150"),
        ({"functions": ["it"]}, "functions", "cross-functional"),
        ({"functions": []}, "functions", "at least two"),
        ({"target": date(2020, 1, 1)}, "target_date", "past"),
        ({"target": date.today() + timedelta(days=11 * 366)}, "target_date", "Choose a date within ten years."),
        ({"target": date.max}, "target_date", "Choose a date within ten years."),
        ({"sponsor": "U0OTHERBOT"}, "sponsor", "bot"),
        ({"sponsor": "U0GONE"}, "sponsor", "deactivated"),
        ({"journey": None}, "journey", "journey"),
    ],
    ids=[
        "blank-title",
        "long-title",
        "one-function",
        "no-function",
        "past-date",
        "eleven-years",
        "end-of-time",
        "bot-sponsor",
        "gone-sponsor",
        "no-journey",
    ],
)
def test_refusals_are_answered_in_the_modal_and_store_nothing(hub, changes, block, words):
    # The form is answered without asking Slack: the hub knows its workspace's people once
    # synced (`serve` does it at start and daily).
    sync_users(hub.runtime)
    hub.emulator.reset_records()
    response = submit(hub, forms.proposal(**changes))
    assert response.status == 200
    assert response.json["response_action"] == "errors"
    assert list(response.json["errors"]) == [block]
    assert words in response.json["errors"][block]
    assert count_initiatives(hub) == 0
    assert hub.emulator.calls_to("chat.postMessage") == []


def test_a_target_date_within_ten_years_is_taken(hub):
    target = date.today() + timedelta(days=9 * 366)
    assert submit(hub, forms.proposal(target=target)).body_text.strip() == ""
    with hub.runtime.sessions() as session:
        assert session.scalars(select(Initiative.target_date)).all() == [target]


@sqlite_only
def test_functions_error_uses_the_versioned_block_id(hub):
    meta = json.dumps({"functions_version": 2})
    response = submit(hub, forms.proposal(functions=["it"], functions_block="functions.2"), private_metadata=meta)
    assert list(response.json["errors"]) == ["functions.2"]


@sqlite_only
def test_choosing_the_employee_journey_preselects_hr(hub):
    hub.command("propose Better onboarding", user_id="U0HR1")
    [opened] = hub.emulator.views
    view = {**opened.view, "id": opened.id, "state": {"values": forms.proposal(journey="employee", functions=["it"])}}
    hub.send(
        "block_action",
        user_id="U0HR1",
        action_id="journey_changed",
        block_id="journey",
        trigger_id=hub.emulator.new_trigger_id(),
        view=view,
        selected_option={"value": "employee"},
    )
    [update] = hub.emulator.calls_to("views.update")
    assert update.response["ok"], update.response
    new_view = update.args["view"]
    if isinstance(new_view, str):
        new_view = json.loads(new_view)
    functions = next(b for b in new_view["blocks"] if b.get("block_id", "").startswith("functions"))
    assert functions["block_id"] == "functions.1"
    assert [o["value"] for o in functions["element"]["initial_options"]] == ["it", "hr"]


@sqlite_only
def test_message_shortcut_prefills_and_keeps_the_link(hub):
    source = hub.emulator.add_user_message("C0MKT", "U0MKT1", "Our website campaign needs the CRM data\nMore details here")
    hub.send(
        "message_shortcut",
        user_id="U0MKT1",
        callback_id="propose_from_message",
        channel_id="C0MKT",
        message={"type": "message", "user": "U0MKT1", "ts": source.ts, "text": source.text},
        trigger_id=hub.emulator.new_trigger_id(),
        response_url=hub.emulator.new_response_url(),
    )
    [opened] = hub.emulator.views
    title = next(b for b in opened.view["blocks"] if b.get("block_id") == "title")
    assert title["element"]["initial_value"] == "Our website campaign needs the CRM data"
    functions = next(b for b in opened.view["blocks"] if b.get("block_id") == "functions")
    assert {o["value"] for o in functions["element"]["initial_options"]} == {"marketing", "it"}
    submit(hub, forms.proposal(), user_id="U0MKT1", private_metadata=opened.view["private_metadata"])
    with hub.runtime.sessions() as session:
        initiative = session.scalars(select(Initiative)).one()
        assert initiative.source_channel == "C0MKT"
        assert initiative.source_permalink and source.ts.replace(".", "") in initiative.source_permalink


@sqlite_only
def test_expired_trigger_tells_the_user(hub):
    hub.sender.command("/cdo", "propose", user_id="U0CMO", trigger_id="trg.unknown", response_url=hub.emulator.new_response_url())
    hub.settle()
    [reply] = hub.emulator.responses
    assert "could not be opened" in reply.json["text"]


@sqlite_only
@pytest.mark.parametrize("sponsor, words", [("U0OTHERBOT", "bot"), ("U0GONE", "deactivated")])
def test_a_sponsor_the_hub_did_not_know_is_checked_after_the_answer(hub, sponsor, words):
    response = submit(hub, forms.proposal(sponsor=sponsor))
    assert response.status == 200 and not response.body_text.strip()  # no Slack call before the answer
    assert [call.args["user"] for call in hub.emulator.calls_to("users.info")].count(sponsor) == 1  # looked up after
    with hub.runtime.sessions() as session:
        [initiative] = session.scalars(select(Initiative)).all()
    assert initiative.sponsor is None and initiative.hub_ts is not None
    [confirmation] = hub.emulator.dms("U0CMO")
    assert "sponsor you chose was not kept" in json.dumps(confirmation.blocks) and words in json.dumps(confirmation.blocks)


def test_a_form_submitted_again_creates_one_initiative_and_one_card(hub):
    # Slack showed the person an error because the first answer was slow; they submit again.
    values = forms.proposal()
    first = hub.send("view_submission", user_id="U0CMO", callback_id=View.PROPOSE.value, values=values, view_id="V0SAMEFORM")
    again = hub.send("view_submission", user_id="U0CMO", callback_id=View.PROPOSE.value, values=values, view_id="V0SAMEFORM")
    assert first.status == again.status == 200 and not again.body_text.strip()  # the form closes
    assert count_initiatives(hub) == 1
    assert len([m for m in hub.emulator.messages("C0HUB") if not m.thread_ts]) == 1
    assert len(hub.emulator.dms("U0CMO")) == 1
    other = submit(hub, values)  # another form, the same words: another initiative
    assert other.status == 200 and count_initiatives(hub) == 2


def test_a_commitment_form_submitted_again_records_one_commitment(hub):
    initiative_id = submit_and_get(hub)
    values = forms.commitment(giver="it", taker="marketing", what="The API", due=date.today() + timedelta(days=9))
    meta = json.dumps({"initiative": initiative_id})
    for _ in range(2):
        response = hub.send(
            "view_submission", user_id="U0CIO", callback_id=View.COMMIT.value, values=values, private_metadata=meta, view_id="V0COMMITONCE"
        )
        assert response.status == 200
    with hub.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Commitment)) == 1


def submit_and_get(hub) -> int:
    assert submit(hub, forms.proposal()).status == 200
    with hub.runtime.sessions() as session:
        return session.scalar(select(func.max(Initiative.id)))
