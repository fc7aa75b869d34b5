"""Promises and requests, through signed requests into the running hub: a function's promise
is made by that function; anyone else on the initiative asks it, and the function asked
accepts, proposes another date (which the asker accepts) or declines. Each answer is applied,
announced and drawn once, whatever the double clicks; people outside the initiative's
functions can neither promise nor ask."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from bot.models import Activity, Commitment, Initiative
from bot.reports import REPORTS
from bot.sandbox import forms
from bot.slack.ids import Action, View
from tests.scenario.steps import click, commitment, propose, sqlite_only, submit_commitment

WANTED = date.today() + timedelta(days=30)
LATER = WANTED + timedelta(days=14)
RECORD = "one golden customer record API"


def ask(hub, initiative: Initiative, *, user_id: str = "U0HR1", giver: str = "it", taker: str = "marketing", **options) -> Commitment:
    response = submit_commitment(hub, initiative.id, user_id=user_id, giver=giver, taker=taker, what=RECORD, due=WANTED, **options)
    assert response.status == 200 and not response.body_text.strip(), response.body_text
    with hub.runtime.sessions() as session:
        return session.scalars(select(Commitment).order_by(Commitment.id.desc())).first()


def ref(request: Commitment) -> str:
    return json.dumps({"commitment": request.id})


def drawn(hub, request: Commitment) -> str:
    """The request's message in the hub thread as it looks now (updated in place)."""
    stored = commitment(hub, request.id)
    message = hub.emulator.message(stored.hub_channel, stored.hub_ts)
    assert message is not None
    return json.dumps(message.blocks)


def buttons(hub, request: Commitment) -> list[str]:
    stored = commitment(hub, request.id)
    message = hub.emulator.message(stored.hub_channel, stored.hub_ts)
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def said(hub, initiative: Initiative, words: str) -> list[str]:
    return [m.text for m in hub.emulator.thread("C0HUB", initiative.hub_ts) if words in m.text]


def answer_form(hub, request: Commitment, view: View, *, user_id: str, reason: str = "", due: date | None = None, view_id=None):
    values = {"reason": {"value": forms.text(reason)}}
    if view is View.OTHER_DATE:
        values["due"] = {"value": forms.day(due)}
    return hub.send(
        "view_submission",
        user_id=user_id,
        callback_id=view.value,
        values=values,
        private_metadata=json.dumps({"commitment": request.id, "seen_due": request.due.isoformat()}),
        view_id=view_id,
    )


def test_an_hr_member_asks_it_and_an_it_member_accepts_once(hub):
    emulator = hub.emulator
    initiative = propose(hub, functions=["marketing", "it", "hr"])

    # The same form, sent by someone not in IT, asks IT: a request, owned by nobody yet.
    request = ask(hub, initiative)
    assert (request.status, request.owner, request.requested_by, request.due) == ("requested", None, "U0HR1", WANTED)
    shown = drawn(hub, request)
    for words in ("Request #", "<@U0HR1> asks *IT* <@U0CIO>", "for *Marketing*", RECORD, WANTED.isoformat()):
        assert words in shown, words
    assert buttons(hub, request) == [Action.REQUEST_ACCEPT.value, Action.REQUEST_OTHER_DATE.value, Action.REQUEST_DECLINE.value]
    with hub.runtime.sessions() as session:  # the asker's function acted, the function asked did not
        assert {a.function_key for a in session.scalars(select(Activity).where(Activity.kind == "request"))} == {"hr"}
    asked_home = json.dumps(emulator.home("U0CIO"))
    assert "Asked of IT" in asked_home and RECORD in asked_home and "waiting for your answer" in asked_home

    # Someone of another function may not answer it.
    click(hub, user_id="U0MKT1", action_id=Action.REQUEST_ACCEPT.value, value=ref(request))
    assert "only IT's members and leads" in emulator.responses[-1].json["text"]
    assert commitment(hub, request.id).status == "requested"

    # An IT member (by channel) accepts, with a double click: it is their promise, once.
    click(hub, user_id="U0IT1", action_id=Action.REQUEST_ACCEPT.value, value=ref(request))
    click(hub, user_id="U0IT1", action_id=Action.REQUEST_ACCEPT.value, value=ref(request))
    click(hub, user_id="U0CIO", action_id=Action.REQUEST_ACCEPT.value, value=ref(request))  # too late: nothing
    accepted = commitment(hub, request.id)
    assert (accepted.status, accepted.owner, accepted.due) == ("open", "U0IT1", WANTED)
    assert [(c.action, c.actor) for c in accepted.history] == [("requested", "U0HR1"), ("accepted", "U0IT1")]
    assert len(said(hub, initiative, "accepted request")) == 1
    updates = [c for c in emulator.calls_to("chat.update") if c.args.get("ts") == accepted.hub_ts]
    assert len(updates) == 1
    assert buttons(hub, request) == [Action.COMMITMENT_DONE.value, Action.COMMITMENT_SLIP.value, Action.COMMITMENT_BLOCKED.value]
    assert "Asked for by <@U0HR1>" in drawn(hub, request)
    with hub.runtime.sessions() as session:
        kinds = session.scalars(select(Activity.kind).where(Activity.ref == f"commitment:{request.id}")).all()
    assert "request_accepted" in kinds
    assert RECORD in json.dumps(emulator.home("U0IT1"))  # owed by its new owner
    assert "waiting for your answer" not in json.dumps(emulator.home("U0CIO"))
    assert emulator.errors() == []


def test_another_date_goes_back_to_the_asker_who_accepts_it_once(hub):
    emulator = hub.emulator
    initiative = propose(hub, functions=["marketing", "it"])
    request = ask(hub, initiative, user_id="U0MKT1")

    # The asker cannot propose another date to themselves: the form does not open.
    click(hub, user_id="U0MKT1", action_id=Action.REQUEST_OTHER_DATE.value, value=ref(request))
    assert emulator.views == [] and "only IT's members" in emulator.responses[-1].json["text"]
    click(hub, user_id="U0CIO", action_id=Action.REQUEST_OTHER_DATE.value, value=ref(request))
    [opened] = emulator.views
    assert opened.view["callback_id"] == View.OTHER_DATE.value

    same = answer_form(hub, request, View.OTHER_DATE, user_id="U0CIO", due=WANTED)
    assert list(same.json["errors"]) == ["due"]  # that is the date asked: accept instead
    for _ in range(2):  # submitted twice: one proposal
        answer_form(hub, request, View.OTHER_DATE, user_id="U0CIO", due=LATER, reason="The ERP <!here> freeze", view_id="V0OTHERDATE")
    countered = commitment(hub, request.id)
    assert (countered.status, countered.proposed_due, countered.proposed_by, countered.owner) == ("requested", LATER, "U0CIO", None)
    [announced] = said(hub, initiative, "proposed")
    assert "<@U0MKT1>" in announced and LATER.isoformat() in announced and "&lt;!here&gt;" in announced
    assert buttons(hub, request) == [Action.REQUEST_ACCEPT_DATE.value, Action.REQUEST_DECLINE.value]

    # Now it is the asker's turn: IT accepting the original date is told so.
    click(hub, user_id="U0CIO", action_id=Action.REQUEST_ACCEPT.value, value=ref(request))
    assert "waits for the person who asked" in emulator.responses[-1].json["text"]
    offer = json.dumps({"commitment": request.id, "due": LATER.isoformat()})
    click(hub, user_id="U0IT1", action_id=Action.REQUEST_ACCEPT_DATE.value, value=offer)
    assert "only <@U0MKT1>, who asked" in emulator.responses[-1].json["text"]
    click(hub, user_id="U0MKT1", action_id=Action.REQUEST_ACCEPT_DATE.value, value=offer)
    click(hub, user_id="U0MKT1", action_id=Action.REQUEST_ACCEPT_DATE.value, value=offer)
    taken = commitment(hub, request.id)
    assert (taken.status, taken.owner, taken.due, taken.proposed_due) == ("open", "U0CIO", LATER, None)
    assert [c.action for c in taken.history] == ["requested", "other_date", "date_accepted"]
    assert len(said(hub, initiative, f"accepted {LATER.isoformat()}")) == 1
    assert emulator.errors() == []


def test_decline_needs_a_reason_and_is_said_once(hub):
    emulator = hub.emulator
    initiative = propose(hub, functions=["marketing", "it"])
    request = ask(hub, initiative, user_id="U0MKT1")

    click(hub, user_id="U0CIO", action_id=Action.REQUEST_DECLINE.value, value=ref(request))
    assert emulator.views[-1].view["callback_id"] == View.DECLINE.value
    blank = answer_form(hub, request, View.DECLINE, user_id="U0CIO", reason="  ")
    assert list(blank.json["errors"]) == ["reason"]

    # Someone not in IT sending the form directly is refused after the ack, in a DM, once.
    for _ in range(2):
        outsider = answer_form(hub, request, View.DECLINE, user_id="U0HR1", reason="Not needed", view_id="V0NOTYOURS")
        assert outsider.status == 200 and not outsider.body_text.strip()
    assert commitment(hub, request.id).status == "requested"
    assert [m.text for m in emulator.dms("U0HR1") if "only IT's members" in m.text] != []
    assert len([m for m in emulator.dms("U0HR1") if "only IT's members" in m.text]) == 1

    for _ in range(2):
        answer_form(hub, request, View.DECLINE, user_id="U0CIO", reason="No budget before Q3", view_id="V0DECLINE")
    declined = commitment(hub, request.id)
    assert declined.status == "declined" and declined.owner is None
    assert declined.history[-1].reason == "No budget before Q3"
    [announced] = said(hub, initiative, "declined request")
    assert "No budget before Q3" in announced
    assert buttons(hub, request) == [] and "declined" in drawn(hub, request)
    # A button of the old message changes nothing any more.
    click(hub, user_id="U0CIO", action_id=Action.REQUEST_ACCEPT.value, value=ref(request))
    assert commitment(hub, request.id).status == "declined"
    assert emulator.errors() == []


def test_people_outside_the_initiatives_functions_can_neither_promise_nor_ask(hub):
    emulator = hub.emulator
    initiative = propose(hub, functions=["marketing", "it"], sponsor="U0CEO")
    value = json.dumps({"initiative": initiative.id})

    click(hub, user_id="U0HR1", action_id=Action.COMMIT.value, value=value)
    assert emulator.views == []
    assert "only people in Marketing or IT, the sponsor, hub staff and admins" in emulator.responses[-1].json["text"]
    hub.command(f"commit {initiative.id}", user_id="U0CHRO")
    assert emulator.views == [] and "can promise or ask" in emulator.responses[-1].json["text"]

    # The form sent anyway (opened before, or forged) records nothing, and says why once.
    for _ in range(2):
        response = submit_commitment(
            hub, initiative.id, user_id="U0HR1", giver="it", taker="marketing", what=RECORD, due=WANTED, view_id="V0OUTSIDER"
        )
        assert response.status == 200
    with hub.runtime.sessions() as session:
        assert session.scalars(select(Commitment)).all() == []
    assert len([m for m in emulator.dms("U0HR1") if "can promise or ask" in m.text]) == 1

    # The sponsor, in no function, may ask; the form tells them it will be a request.
    click(hub, user_id="U0CEO", action_id=Action.COMMIT.value, value=value)
    assert "From any function, this is a request" in json.dumps(emulator.views[-1].view)
    request = ask(hub, initiative, user_id="U0CEO")
    assert (request.status, request.requested_by) == ("requested", "U0CEO")
    assert emulator.errors() == []


def test_hub_staff_ask_or_record_a_promise_on_the_functions_behalf(hub):
    emulator = hub.emulator
    initiative = propose(hub, functions=["marketing", "it"])
    click(hub, user_id="U0CDO", action_id=Action.COMMIT.value, value=json.dumps({"initiative": initiative.id}))
    assert "on_behalf" in json.dumps(emulator.views[-1].view)  # the box is offered to staff and admins only
    click(hub, user_id="U0CIO", action_id=Action.COMMIT.value, value=json.dumps({"initiative": initiative.id}))
    assert "on_behalf" not in json.dumps(emulator.views[-1].view)

    asked = ask(hub, initiative, user_id="U0CDO")
    assert (asked.status, asked.requested_by, asked.owner) == ("requested", "U0CDO", None)

    with hub.runtime.sessions() as session:
        before = len(session.scalars(select(Activity)).all())
    promised = ask(hub, initiative, user_id="U0CDO", on_behalf=True)
    assert (promised.status, promised.owner, promised.requested_by) == ("open", "U0CIO", None)  # IT's lead owns it
    stored = commitment(hub, promised.id)
    assert [(c.action, c.actor) for c in stored.history] == [("created", "U0CDO")]
    assert "Recorded by <@U0CDO> on IT's behalf" in drawn(hub, promised)
    with hub.runtime.sessions() as session:  # the hub does not keep a pair alive on its own
        assert len(session.scalars(select(Activity)).all()) == before

    # A member ticking the box (it is not offered to them) still asks: only staff and admins record for a function.
    marketer = ask(hub, initiative, user_id="U0MKT1", on_behalf=True)
    assert marketer.status == "requested"
    assert emulator.errors() == []


@sqlite_only
def test_a_request_cannot_be_accepted_for_a_date_that_has_passed_nor_on_a_closed_initiative(hub):
    initiative = propose(hub, functions=["marketing", "it"])
    request = ask(hub, initiative, user_id="U0MKT1")
    with hub.runtime.sessions() as session, session.begin():
        session.get(Commitment, request.id).due = date.today() - timedelta(days=3)
    click(hub, user_id="U0CIO", action_id=Action.REQUEST_ACCEPT.value, value=ref(request))
    assert "has passed: propose another date instead" in hub.emulator.responses[-1].json["text"]
    assert commitment(hub, request.id).status == "requested"

    option = {"value": json.dumps({"initiative": initiative.id, "status": "dropped"})}
    click(hub, user_id="U0CMO", action_id=Action.INITIATIVE_STATUS.value, value=None, selected_option=option, action_type="overflow")
    click(hub, user_id="U0CIO", action_id=Action.REQUEST_DECLINE.value, value=ref(request))
    assert "can no longer be answered" in hub.emulator.responses[-1].json["text"]
    assert hub.emulator.views == []


def test_the_commitments_report_says_who_asked(hub):
    initiative = propose(hub, functions=["marketing", "it"])
    asked = ask(hub, initiative, user_id="U0MKT1")
    declined = ask(hub, initiative, user_id="U0CMO")
    answer_form(hub, declined, View.DECLINE, user_id="U0IT1", reason="Out of scope")
    promised = ask(hub, initiative, user_id="U0CIO")
    with hub.runtime.sessions() as session:
        rows = {row["id"]: row for row in REPORTS["commitments"](session, hub.settings, hub.runtime.clock.now())}
    assert (rows[asked.id]["status"], rows[asked.id]["requested_by"], rows[asked.id]["owner"]) == ("requested", "U0MKT1", None)
    assert (rows[declined.id]["status"], rows[declined.id]["requested_by"]) == ("declined", "U0CMO")
    assert (rows[promised.id]["status"], rows[promised.id]["requested_by"], rows[promised.id]["owner"]) == ("open", None, "U0CIO")
    assert not any(row["overdue"] for row in rows.values())
