"""Commitments between functions: the form, validation, authorization, double clicks,
slips with history, and the initiative's status from the card."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from bot.app import commit
from bot.core.commitments import Draft
from bot.models import Activity, Commitment, Pair
from bot.sandbox import forms
from bot.slack.ids import Action, View
from tests.scenario.steps import click, commitment, propose, sqlite_only, submit_commitment

SOON = date.today() + timedelta(days=14)
API = "a golden customer record API"


def test_story_the_cio_commits_it_an_hr_member_cannot_close_it_the_cio_can_once(hub):
    emulator = hub.emulator
    initiative = propose(hub, functions=["marketing", "it", "hr"])
    route_ts = next(f.route_ts for f in initiative.functions if f.function_key == "it")

    # The Commit button on #it's routed post opens the form with IT → ? pre-filled.
    click(
        hub,
        user_id="U0CIO",
        action_id=Action.COMMIT.value,
        value=json.dumps({"initiative": initiative.id}),
        channel_id="C0IT",
        message_ts=route_ts,
    )
    [opened] = emulator.views
    blocks = {b.get("block_id"): b for b in opened.view["blocks"]}
    assert blocks["from_function"]["element"]["initial_option"]["value"] == "it"
    assert [o["value"] for o in blocks["to_function"]["element"]["options"]] == ["marketing", "it", "hr"]

    response = submit_commitment(hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what=API, due=SOON)
    assert response.status == 200 and not response.body_text.strip()
    [posted] = [m for m in emulator.thread("C0HUB", initiative.hub_ts)]
    assert API in json.dumps(posted.blocks)
    with hub.runtime.sessions() as session:
        stored = session.scalars(select(Commitment)).one()
        assert (stored.from_function, stored.to_function, stored.owner, stored.due, stored.status) == (
            "it",
            "marketing",
            "U0CIO",
            SOON,
            "open",
        )
        assert (stored.hub_channel, stored.hub_ts) == ("C0HUB", posted.ts)
        pair = session.scalars(select(Pair).where(Pair.function_a == "it", Pair.function_b == "marketing")).one()
        assert pair.last_joint_activity_at is not None  # a commitment between them is joint activity
        other = session.scalars(select(Pair).where(Pair.function_a == "hr", Pair.function_b == "it")).one()
        assert other.last_joint_activity_at is None
    ref = json.dumps({"commitment": stored.id})
    home = emulator.home("U0CIO")  # the owner's App Home shows what they now owe
    assert home is not None and API in json.dumps(home)

    # An HR member may not close it: a polite ephemeral refusal, and nothing changes.
    click(hub, user_id="U0HR1", action_id=Action.COMMITMENT_DONE.value, value=ref, message_ts=posted.ts)
    [refusal] = emulator.responses
    assert refusal.json["response_type"] == "ephemeral" and "only the commitment's owner" in refusal.json["text"]
    assert commitment(hub, stored.id).status == "open"
    assert emulator.calls_to("chat.update") == []

    # The CIO can, once: a double click changes and announces once.
    click(hub, user_id="U0CIO", action_id=Action.COMMITMENT_DONE.value, value=ref, message_ts=posted.ts)
    click(hub, user_id="U0CIO", action_id=Action.COMMITMENT_DONE.value, value=ref, message_ts=posted.ts)
    done = commitment(hub, stored.id)
    assert done.status == "done"
    assert [(c.action, c.actor) for c in done.history] == [("created", "U0CIO"), ("done", "U0CIO")]
    [update] = emulator.calls_to("chat.update")
    assert "Done" not in json.dumps(update.args.get("blocks"))  # no buttons once done
    announcements = [m for m in emulator.thread("C0HUB", initiative.hub_ts) if "marked commitment" in m.text]
    assert len(announcements) == 1
    assert API not in json.dumps(emulator.home("U0CIO"))  # done: no longer owed
    assert emulator.errors() == []


@sqlite_only
@pytest.mark.parametrize(
    "giver, taker, what, due, block",
    [
        ("it", "marketing", "   ", SOON, "what"),
        ("it", "marketing", API, date(2020, 1, 1), "due"),
        ("it", "it", API, SOON, "to_function"),
        ("it", "hr", API, SOON, "to_function"),
        (None, "marketing", API, SOON, "from_function"),
        ("it", "marketing", API, None, "due"),
    ],
    ids=["blank", "past", "same-function", "not-on-initiative", "no-from", "no-date"],
)
def test_commitment_validation_in_the_modal(hub, giver, taker, what, due, block):
    initiative = propose(hub, functions=["marketing", "it"])
    response = submit_commitment(hub, initiative.id, user_id="U0CIO", giver=giver, taker=taker, what=what, due=due)
    assert response.json["response_action"] == "errors"
    assert block in response.json["errors"]
    with hub.runtime.sessions() as session:
        assert session.scalars(select(Commitment)).all() == []


@sqlite_only
@pytest.mark.parametrize("due", [date.today() + timedelta(days=11 * 366), date.max], ids=["eleven-years", "end-of-time"])
def test_a_due_date_more_than_ten_years_away_is_refused_in_the_form(hub, due):
    initiative = propose(hub, functions=["marketing", "it"])
    response = submit_commitment(hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what=API, due=due)
    assert response.json == {"response_action": "errors", "errors": {"due": "Choose a date within ten years."}}
    with hub.runtime.sessions() as session:
        assert session.scalars(select(Commitment)).all() == []

    # A slip to the end of time is refused the same way, and the due date stays.
    submit_commitment(hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what=API, due=SOON)
    with hub.runtime.sessions() as session:
        stored = session.scalars(select(Commitment)).one()
    refused = _slip(hub, stored.id, user_id="U0CIO", new_due=due, reason="Vendor delay", seen_due=SOON)
    assert refused.json == {"response_action": "errors", "errors": {"due": "Choose a date within ten years."}}
    assert (commitment(hub, stored.id).status, commitment(hub, stored.id).due) == ("open", SOON)
    # Eight years ahead is a plan, not a typo: taken.
    _slip(hub, stored.id, user_id="U0CIO", new_due=SOON + timedelta(days=3000), reason="Vendor delay", seen_due=SOON)
    assert commitment(hub, stored.id).due == SOON + timedelta(days=3000)


def _slip(hub, commitment_id: int, *, user_id: str, new_due: date, reason: str, seen_due: date):
    return hub.send(
        "view_submission",
        user_id=user_id,
        callback_id=View.SLIP.value,
        values={"due": {"value": forms.day(new_due)}, "reason": {"value": forms.text(reason)}},
        private_metadata=json.dumps({"commitment": commitment_id, "seen_due": seen_due.isoformat()}),
    )


def test_a_form_is_checked_on_one_connection_without_a_transaction(hub):
    """Before the answer: the initiative's outline and what is known of the person, two reads on
    one plain connection, and on Postgres with no transaction begun and rolled back."""
    initiative = propose(hub, functions=["marketing", "it"])
    draft = Draft(owner="U0MK1", from_function="marketing", to_function="it", what="Segments", due=date.today() + timedelta(days=9))
    checkouts: list[object] = []
    statements: list[tuple[str, bool | None]] = []

    def checkout(_dbapi, _record, proxy) -> None:
        checkouts.append(proxy)

    def executing(connection, _cursor, statement, *_args) -> None:
        statements.append((statement.split()[0].upper(), getattr(connection.connection.dbapi_connection, "autocommit", None)))

    engine = hub.runtime.engine
    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine, "before_cursor_execute", executing)
    try:
        assert commit.check_commitment(hub.runtime, initiative.id, draft) == {}
    finally:
        event.remove(engine.pool, "checkout", checkout)
        event.remove(engine, "before_cursor_execute", executing)
    assert len(checkouts) == 1
    assert [verb for verb, _ in statements] == ["SELECT", "SELECT"]
    if engine.dialect.name == "postgresql":
        assert all(autocommit for _, autocommit in statements)


def test_slip_records_history_once_and_refuses_outsiders(hub):
    initiative = propose(hub, functions=["marketing", "it"])
    submit_commitment(hub, initiative.id, user_id="U0IT1", giver="it", taker="marketing", what=API, due=SOON)
    with hub.runtime.sessions() as session:
        stored = session.scalars(select(Commitment)).one()
    ref = json.dumps({"commitment": stored.id})

    # The Slip button opens the form for the owner, and not for someone else.
    click(hub, user_id="U0HR1", action_id=Action.COMMITMENT_SLIP.value, value=ref)
    assert hub.emulator.views == []
    click(hub, user_id="U0IT1", action_id=Action.COMMITMENT_SLIP.value, value=ref)
    [opened] = hub.emulator.views
    assert opened.view["callback_id"] == View.SLIP.value

    later = SOON + timedelta(days=7)
    missing_reason = _slip(hub, stored.id, user_id="U0IT1", new_due=later, reason=" ", seen_due=SOON)
    assert list(missing_reason.json["errors"]) == ["reason"]
    _slip(hub, stored.id, user_id="U0IT1", new_due=later, reason="Vendor & <!here> delay", seen_due=SOON)
    _slip(hub, stored.id, user_id="U0IT1", new_due=later, reason="Vendor & <!here> delay", seen_due=SOON)
    slipped = commitment(hub, stored.id)
    assert (slipped.status, slipped.due) == ("slipped", later)
    [created, slip] = slipped.history
    assert (slip.action, slip.old_due, slip.new_due, slip.reason) == ("slip", SOON, later, "Vendor & <!here> delay")
    announcements = [m for m in hub.emulator.thread("C0HUB", initiative.hub_ts) if "moved commitment" in m.text]
    assert len(announcements) == 1
    assert "<!here>" not in announcements[0].text and "&lt;!here&gt;" in announcements[0].text

    # Someone outside may not slip it even by submitting the form directly.
    refused = _slip(hub, stored.id, user_id="U0HR1", new_due=later + timedelta(days=1), reason="no", seen_due=later)
    assert refused.json["response_action"] == "errors"
    assert commitment(hub, stored.id).due == later


@sqlite_only
def test_blocked_needs_a_reason_and_the_sponsor_may_set_it(hub):
    initiative = propose(hub, functions=["marketing", "it"], sponsor="U0CEO")
    submit_commitment(hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what=API, due=SOON)
    with hub.runtime.sessions() as session:
        stored = session.scalars(select(Commitment)).one()
    meta = json.dumps({"commitment": stored.id, "seen_due": SOON.isoformat()})
    hub.send(
        "view_submission",
        user_id="U0CEO",
        callback_id=View.BLOCKED.value,
        values={"reason": {"value": forms.text("Waiting on the ERP vendor")}},
        private_metadata=meta,
    )
    blocked = commitment(hub, stored.id)
    assert blocked.status == "blocked"
    assert blocked.history[-1].reason == "Waiting on the ERP vendor"


@sqlite_only
def test_commit_command_opens_the_form_or_explains(hub):
    initiative = propose(hub, functions=["marketing", "it"])
    hub.command(f"commit {initiative.id}", user_id="U0MKT1")
    [opened] = hub.emulator.views
    assert opened.view["callback_id"] == View.COMMIT.value
    first = {b.get("block_id"): b for b in opened.view["blocks"]}["from_function"]
    assert first["element"]["initial_option"]["value"] == "marketing"
    hub.command("commit 999", user_id="U0MKT1")
    assert "no initiative #999" in hub.emulator.responses[-1].json["text"]
    answer = hub.command("commit", user_id="U0MKT1")
    assert "Which initiative" in answer.json["text"]


@sqlite_only
def test_hub_staff_changes_count_for_no_function(hub):
    initiative = propose(hub, functions=["marketing", "it"])
    submit_commitment(hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what=API, due=SOON)
    with hub.runtime.sessions() as session:
        stored = session.scalars(select(Commitment)).one()
        before = session.scalars(select(Activity)).all()
    click(hub, user_id="U0CDO", action_id=Action.COMMITMENT_DONE.value, value=json.dumps({"commitment": stored.id}))
    assert commitment(hub, stored.id).status == "done"
    with hub.runtime.sessions() as session:
        assert len(session.scalars(select(Activity)).all()) == len(before)


def test_initiative_status_from_the_card_menu(hub):
    initiative = propose(hub, functions=["marketing", "it"], sponsor="U0CEO")
    option = {"value": json.dumps({"initiative": initiative.id, "status": "done"})}
    click(hub, user_id="U0HR1", action_id=Action.INITIATIVE_STATUS.value, value=None, selected_option=option, action_type="overflow")
    assert "only the proposer" in hub.emulator.responses[-1].json["text"]
    click(hub, user_id="U0CEO", action_id=Action.INITIATIVE_STATUS.value, value=None, selected_option=option, action_type="overflow")
    click(hub, user_id="U0CEO", action_id=Action.INITIATIVE_STATUS.value, value=None, selected_option=option, action_type="overflow")
    [update] = hub.emulator.calls_to("chat.update")
    assert update.args["ts"] == initiative.hub_ts and "done" in json.dumps(update.args["blocks"])
    said = [m for m in hub.emulator.thread("C0HUB", initiative.hub_ts) if "set the status" in m.text]
    assert len(said) == 1
    assert hub.emulator.errors() == []
    # A done initiative takes no new commitments.
    hub.command(f"commit {initiative.id}", user_id="U0CIO")
    assert "done" in hub.emulator.responses[-1].json["text"]
