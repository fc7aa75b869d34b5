"""Who sees an initiative when the hub channel is private: members of the hub channel, people
of the initiative's functions, its proposer and sponsor, executives, hub staff and admins;
everyone else gets a polite answer without its content. Signed requests against the emulator,
on SQLite and Postgres."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core import initiatives
from bot.models import Commitment
from tests.scenario import steps

MARKETING_IT = "Customer 360 across the ERP instances"
HR_IT = "Payroll vendor switch for onboarding"


@pytest.fixture
def private_hub(hub):
    """#cdo-hub is private with the leads in it; #marketing, #it and #hr stay public."""
    workspace = hub.emulator.workspace
    workspace.channels["C0HUB"].is_private = True
    workspace.add_user("U0OUT", "olga.ops", "Olga Outside")  # in no channel of the hub
    steps.propose(hub, user_id="U0CMO", title=MARKETING_IT, functions=["marketing", "it"], sponsor="U0CEO")
    steps.propose(hub, user_id="U0CHRO", title=HR_IT, functions=["hr", "it"], sponsor="U0CEO")
    return hub


def answer(hub, text: str, user: str) -> str:
    """What the person was told: the answer of the command or, after it, through its response URL."""
    before = len(hub.emulator.responses)
    response = hub.command(text, user_id=user)
    assert response.status == 200
    return json.dumps([response.json if response.body_text.strip() else None, *[r.json for r in hub.emulator.responses[before:]]])


def initiative_id(hub, title: str) -> int:
    with hub.runtime.sessions() as session:
        return next(i.id for i in initiatives.listing(session) if i.title == title)


@pytest.mark.parametrize(
    "user, sees, hidden, restricted",
    [
        ("U0MKT1", [MARKETING_IT], [HR_IT], True),  # #marketing, not in the hub channel
        ("U0HR1", [HR_IT], [MARKETING_IT], True),  # #hr
        ("U0IT1", [MARKETING_IT, HR_IT], [], True),  # #it is on both
        ("U0CMO", [MARKETING_IT, HR_IT], [], False),  # a member of the hub channel
        ("U0CEO", [MARKETING_IT, HR_IT], [], False),  # an executive
        ("U0OUT", [], [MARKETING_IT, HR_IT], True),
    ],
)
def test_list_shows_each_person_what_they_may_see(private_hub, user, sees, hidden, restricted):
    told = answer(private_hub, "list", user)
    for title in sees:
        assert title in told
    for title in hidden:
        assert title not in told
    assert ("is private: you see the initiatives of your functions" in told) is restricted
    if user == "U0HR1":  # filters apply within what one may see
        assert MARKETING_IT not in answer(private_hub, "list marketing", user)
        assert HR_IT in answer(private_hub, "list it", user)


def test_status_is_refused_politely_without_a_word_of_the_content(private_hub):
    hub = private_hub
    hr_it, marketing_it = initiative_id(hub, HR_IT), initiative_id(hub, MARKETING_IT)
    refused = answer(hub, f"status {marketing_it}", "U0HR1")
    assert f"Initiative #{marketing_it} is discussed in the hub channel, which is private" in refused
    for content in (MARKETING_IT, "Marketing", "U0CMO", "Routes"):
        assert content not in refused
    shown = answer(hub, f"status {hr_it}", "U0HR1")
    assert HR_IT in shown and "Routes" in shown
    assert MARKETING_IT in answer(hub, f"status {marketing_it}", "U0CDO")  # hub staff


def test_the_commitment_form_is_not_opened_for_someone_who_may_not_see(private_hub):
    hub = private_hub
    marketing_it = initiative_id(hub, MARKETING_IT)
    views = len(hub.emulator.views)
    told = answer(hub, f"commit {marketing_it}", "U0HR1")
    assert "which is private" in told and MARKETING_IT not in told
    assert len(hub.emulator.views) == views
    answer(hub, f"commit {marketing_it}", "U0IT1")  # IT is on it: the form opens, with its title
    assert MARKETING_IT in json.dumps(hub.emulator.views[-1].view)


@steps.sqlite_only
def test_the_home_tab_shows_only_what_the_person_may_see(private_hub):
    hub = private_hub
    marketing_it = initiative_id(hub, MARKETING_IT)
    # U0OUT owes a commitment on an initiative of functions they are not part of.
    with hub.runtime.sessions() as session, session.begin():
        now = datetime.now(UTC)
        session.add(
            Commitment(
                initiative_id=marketing_it,
                from_function="it",
                to_function="marketing",
                owner="U0OUT",
                what="Vendor contract clause",
                due=date.today() + timedelta(days=2),
                status="open",
                created_at=now,
                updated_at=now,
            )
        )
    for user, shown, not_shown in (("U0OUT", [], [MARKETING_IT, "Vendor contract clause"]), ("U0MKT1", [MARKETING_IT], [HR_IT])):
        event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home", "event_ts": "1.000001"}
        assert hub.send("event", event=event).status == 200
        tab = json.dumps(hub.emulator.home(user)["blocks"])
        for words in shown:
            assert words in tab
        for words in not_shown:
            assert words not in tab


def test_a_public_hub_channel_shows_everything_to_everyone(hub):
    steps.propose(hub, user_id="U0CMO", title=MARKETING_IT, functions=["marketing", "it"])
    told = answer(hub, "list", "U0HR1")
    assert MARKETING_IT in told and "is private" not in told
