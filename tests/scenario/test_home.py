"""The App Home tab, published on app_home_opened, through signed events against the emulator
(whose views.publish validates the blocks as Slack does) on SQLite and Postgres."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.app.home import publish_home
from bot.clock import FixedClock
from bot.core import initiatives
from bot.core.initiatives import Proposal
from bot.db import transaction
from bot.models import Commitment
from bot.sandbox.harness import LocalHub, demo_settings
from tests.scenario import steps
from tests.scenario.steps import sqlite_only

# Noon in Paris on a Thursday; U0IT1 is in New York, where it is 07:00 the same day.
NOW = datetime(2030, 3, 14, 11, 0, tzinfo=UTC)
TODAY = date(2030, 3, 14)


@pytest.fixture
def home_hub(migrated_url, emulator):
    with LocalHub(demo_settings(migrated_url), emulator, clock=FixedClock(NOW), migrate=False) as running:
        yield running
        assert not running.listener_errors, running.listener_errors


def open_home(hub, user: str, tab: str = "home"):
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab, "event_ts": f"{NOW.timestamp():.6f}"}
    response = hub.send("event", event=event)
    assert response.status == 200, response.body_text
    return hub.emulator.home(user)


def text_of(view) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def add_commitment(session, initiative_id, *, owner, due, status="open", giver="it", taker="marketing", what="Expose the customer API"):
    session.add(
        Commitment(
            initiative_id=initiative_id,
            from_function=giver,
            to_function=taker,
            owner=owner,
            what=what,
            due=due,
            status=status,
            created_at=NOW,
            updated_at=NOW,
        )
    )


def check_limits(view) -> None:
    blocks = view["blocks"]
    assert len(blocks) <= 100
    for block in blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000


@pytest.fixture
def story(home_hub):
    hub = home_hub
    first = steps.propose(hub, user_id="U0CMO", functions=["marketing", "it"], title="One customer view <!channel>")
    hr_only = steps.propose(
        hub, user_id="U0CHRO", functions=["hr", "marketing"], journey="employee", title="Onboarding journey", sponsor="U0CEO"
    )
    with transaction(hub.runtime.sessions) as session:
        add_commitment(session, first.id, owner="U0IT1", due=TODAY - timedelta(days=2), what="Clean the ERP duplicates")
        add_commitment(session, first.id, owner="U0IT1", due=TODAY + timedelta(days=3), what="Open the CRM API", status="slipped")
        add_commitment(session, first.id, owner="U0IT1", due=TODAY + timedelta(days=30), what="Single sign-on")
        add_commitment(session, first.id, owner="U0IT1", due=TODAY - timedelta(days=9), what="Already done", status="done")
        add_commitment(
            session, first.id, owner="U0MKT1", due=TODAY + timedelta(days=1), what="Campaign brief", giver="marketing", taker="it"
        )
    return hub, first, hr_only


def test_the_home_tab_shows_my_initiatives_and_commitments_grouped_by_due_date(story):
    hub, first, hr_only = story
    view = open_home(hub, "U0IT1")
    assert view is not None and view["type"] == "home"
    check_limits(view)
    rendered = text_of(view)
    assert f"*#{first.id}* One customer view &lt;!channel&gt;" in rendered
    assert "<!channel>" not in rendered
    assert "Onboarding journey" not in rendered  # IT is not on it
    overdue = next(b for b in view["blocks"] if "*Overdue* (1)" in b.get("text", {}).get("text", ""))
    assert "Clean the ERP duplicates" in overdue["text"]["text"] and "2 days late" in overdue["text"]["text"]
    soon = next(b for b in view["blocks"] if "*Due within 7 days* (1)" in b.get("text", {}).get("text", ""))
    assert "Open the CRM API" in soon["text"]["text"] and "slipped" in soon["text"]["text"]
    later = next(b for b in view["blocks"] if "*Later* (1)" in b.get("text", {}).get("text", ""))
    assert "Single sign-on" in later["text"]["text"]
    assert "Already done" not in rendered
    # Owed to IT by marketing's member, with the owner named.
    assert "*Owed to IT* (1)" in rendered and "<@U0MKT1>" in rendered and "Campaign brief" in rendered
    assert "Collaboration matrix" not in rendered  # not an executive, not hub staff
    assert "Today is Thursday 2030-03-14" in rendered


def test_a_lead_sees_what_is_owed_to_the_function(story):
    hub, first, hr_only = story
    rendered = text_of(open_home(hub, "U0CMO"))
    assert f"*#{first.id}*" in rendered and f"*#{hr_only.id}*" in rendered  # proposer of one, Marketing on both
    assert "*Owed to Marketing* (3)" in rendered  # the done commitment is not owed any more
    assert "Clean the ERP duplicates" in rendered and "<@U0IT1>" in rendered


def test_executives_and_staff_see_the_matrix(story):
    hub, first, hr_only = story
    for person in ("U0CEO", "U0CDO"):
        view = open_home(hub, person)
        check_limits(view)
        rendered = text_of(view)
        assert "Collaboration matrix" in rendered
        # An overdue commitment between them stalls the pair (health.assess); a new initiative is active.
        assert ":warning: *Marketing × IT*: stalled · 1 joint initiative · 4 open commitments (1 overdue)" in rendered
        assert "*Marketing × HR*: 1 joint initiative" in rendered and ":warning: *Marketing × HR*" not in rendered
        assert rendered.index("Marketing × IT") < rendered.index("Marketing × HR")
        assert "No joint initiative yet: IT × HR" in rendered
    # The sponsor sees the initiative they sponsor.
    assert f"*#{hr_only.id}*" in text_of(hub.emulator.home("U0CEO"))


@sqlite_only
def test_the_messages_tab_publishes_nothing(home_hub):
    assert open_home(home_hub, "U0IT1", tab="messages") is None
    assert home_hub.emulator.calls_to("views.publish") == []


def test_publish_home_can_be_called_after_a_change(story):
    hub, first, _ = story
    publish_home(hub.runtime, "U0IT1")
    assert "Clean the ERP duplicates" in text_of(hub.emulator.home("U0IT1"))
    with transaction(hub.runtime.sessions) as session:
        session.get(Commitment, 1).status = "done"
    publish_home(hub.runtime, "U0IT1")
    rendered = text_of(hub.emulator.home("U0IT1"))
    assert "Clean the ERP duplicates" not in rendered and "*Overdue*" not in rendered


@sqlite_only
def test_a_crowded_home_stays_within_block_kit_limits(home_hub):
    hub = home_hub
    hostile = "<!everyone> " + "&" * 130
    with transaction(hub.runtime.sessions) as session:
        ids = []
        for number in range(200):
            proposal = Proposal(proposer="U0IT1", title=f"{hostile} {number}", functions=("marketing", "it", "hr"), problem="x")
            ids.append(initiatives.create(session, proposal, hub.settings, NOW).id)
        for number in range(300):
            due = TODAY + timedelta(days=(number % 40) - 20)
            add_commitment(
                session,
                ids[number % 200],
                owner="U0IT1",
                due=due,
                what="<!here> " + "<" * 990,
                giver="it",
                taker=("marketing", "hr")[number % 2],
            )
            add_commitment(session, ids[number % 200], owner="U0HR1", due=due, what="&" * 999, giver="hr", taker="it")
    view = open_home(hub, "U0IT1")
    assert view is not None, hub.emulator.errors()
    assert [c.status for c in hub.emulator.calls_to("views.publish")] == [200]
    check_limits(view)
    rendered = text_of(view)
    assert "<!everyone>" not in rendered and "<!here>" not in rendered
    assert "*Your open initiatives* (200)" in rendered and "and 190 more — `/cdo list mine`" in rendered
    assert "*Commitments you owe* (300)" in rendered
    assert "*Owed to IT* (300)" in rendered
    staff = open_home(hub, "U0CDO")
    check_limits(staff)
    assert "*Marketing × IT*: stalled · 200 joint initiatives · 150 open commitments (80 overdue)" in text_of(staff)
