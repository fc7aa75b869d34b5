"""Malformed and hostile requests through real HTTP, on SQLite and Postgres: each gets a 4xx or
a polite answer where the person can see one, changes nothing, and leaves at most one log line
and never a traceback. Text with control characters is stored cleaned on every path."""

from __future__ import annotations

import json
import logging
import time
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest
from sqlalchemy import select, text

from bot.core.text import clean
from bot.models import Commitment, CommitmentChange, Initiative, Outbox
from bot.sandbox import forms
from bot.sandbox.signed import FORM
from bot.slack import guard
from bot.slack.app import create_app
from bot.slack.errors import FAILED
from bot.slack.ids import Action, BadValue, CommitmentRef, View, dump, load
from bot.slack.listeners.events import ignored
from bot.slack.modals import ChangeMeta
from tests.scenario import steps

TABLES = ("initiatives", "initiative_functions", "pairs", "commitments", "commitment_changes", "activities", "processed_events", "outbox")
SOON = date.today() + timedelta(days=14)
LATER = SOON + timedelta(days=7)
SORRY = "Sorry, I could not read"


# --- helpers ---------------------------------------------------------------------------------


def counts(hub) -> dict[str, int]:
    with hub.runtime.sessions() as session:
        return {table: session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() for table in TABLES}


def assert_quiet(caplog, requests: int | None = None) -> None:
    """No traceback in the log, and at most one line about each refused request."""
    assert "Traceback" not in caplog.text
    assert not [record for record in caplog.records if record.exc_info], caplog.text
    if requests is not None:
        ours = [r for r in caplog.records if r.name in ("bot.slack.web", "bot.slack.guard")]
        assert len(ours) <= requests, "\n".join(r.getMessage() for r in ours)


def apologies(hub) -> list[dict]:
    return [post.json for post in hub.emulator.responses if SORRY in json.dumps(post.json)]


def interactive(hub, payload: dict):
    response = hub.sender.interactive(payload)
    hub.settle()
    return response


def base(kind: str, user: str | None = "U0CIO", **fields) -> dict:
    payload = {"type": kind, "api_app_id": "A0CDOHUB", "team": {"id": "T0CDOHUB", "domain": "cdo-hub"}, **fields}
    if user:
        payload["user"] = {"id": user, "name": "cio"}
    return payload


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.INFO)
    return caplog


@pytest.fixture
def initiative(hub):
    return steps.propose(hub, functions=["marketing", "it"])


@pytest.fixture
def promised(hub, initiative):
    response = steps.submit_commitment(hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what="An API", due=SOON)
    assert response.status == 200 and not response.body_text.strip()
    with hub.runtime.sessions() as session:
        return session.scalars(select(Commitment)).one()


# --- signatures ------------------------------------------------------------------------------


def test_requests_not_signed_by_slack_are_401_and_touch_nothing(hub, logged):
    sender = hub.sender
    body = urlencode({"command": "/cdo", "text": "help", "user_id": "U0CMO", "trigger_id": "t.1"}).encode()
    now = int(time.time())
    signed_now = sender.sign(body, now)
    hub.emulator.reset_records()
    before = counts(hub)
    forged = [
        sender.post(body, FORM, headers={"X-Slack-Request-Timestamp": "abc"}),
        sender.post(body, FORM, headers={"X-Slack-Request-Timestamp": "\xb9\xb2\xb3"}, signature=signed_now),
        sender.post(body, FORM, headers={"X-Slack-Request-Timestamp": f"{now}.0"}, signature=signed_now),
        sender.post(body, FORM, headers={"X-Slack-Request-Timestamp": ""}, signature=signed_now),
        sender.post(body, FORM, timestamp=now, signature=""),
        sender.post(body, FORM, timestamp=now, signature="v0=" + "zz" * 32),
        sender.post(body, FORM, timestamp=now, signature="v0=é" + "0" * 63),
        sender.post(body, FORM, timestamp=now - 600),
        sender.post(body, FORM, timestamp=now + 600),
        sender.post(body, FORM, timestamp=now, signature=sender.sign(body + b"&x=1", now)),
    ]
    flood = [sender.post(body, FORM, headers={"X-Slack-Request-Timestamp": "not-a-number"}) for _ in range(25)]
    hub.settle()
    assert [response.status for response in forged + flood] == [401] * 35
    assert hub.emulator.calls == [], "a refused request must have no effect, not even on Slack"
    assert counts(hub) == before
    assert_quiet(logged, requests=35)
    assert sender.post(body, FORM).status == 200  # the same body, signed, is answered


# --- bodies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"{nope", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"text"', "application/json"),
        (b"[" * 50_000, "application/json"),
        (urlencode({"payload": "[1]"}).encode(), FORM),
        (urlencode({"payload": "{not json"}).encode(), FORM),
        (b"payload=%FF%FE", FORM),
        (b"\xff\xfe\x00", FORM),
        (b"", FORM),
        (b"{}", "application/json"),
        (b'{"type": "nonsense"}', "application/json"),
        (b'{"type": "event_callback", "event": [1]}', "application/json"),
        (b'{"type": "event_callback", "event": null}', "application/json"),
        (b'{"type": "url_verification", "challenge": "c", "event": "x"}', "application/json"),
        (b'{"type": "block_actions", "authorizations": "x"}', "application/json"),
        (b'{"type": "view_submission", "response_urls": [1]}', "application/json"),
        (b'{"type": "block_actions", "enterprise": 5, "actions": []}', "application/json"),
    ],
    ids=lambda value: value[:24] if isinstance(value, bytes) else value,
)
def test_a_signed_body_that_is_not_a_slack_payload_is_400(hub, logged, body, content_type):
    before = counts(hub)
    response = hub.sender.post(body, content_type)
    hub.settle()
    assert response.status == 400, response.body_text
    assert counts(hub) == before
    assert_quiet(logged, requests=1)


def test_a_body_larger_than_any_slack_payload_is_413(hub, logged):
    response = hub.sender.post(b"payload=" + b"x" * (2 * 1024 * 1024), FORM)
    assert response.status == 413
    assert_quiet(logged, requests=1)


# --- interactive payloads of the wrong shape ----------------------------------------------------------


def test_interactive_payloads_of_the_wrong_shape_get_a_polite_answer(hub, logged):
    emulator = hub.emulator
    before = counts(hub)
    url = emulator.new_response_url

    # With a response_url, the person is told; without one, Slack gets a 400.
    assert interactive(hub, base("block_actions", actions=[], trigger_id="t.1", response_url=url())).status == 200
    assert interactive(hub, base("block_actions", actions=[{"value": "x"}], trigger_id="t.1", response_url=url())).status == 200
    assert interactive(hub, base("block_actions", user=None, actions=[{"action_id": "commit"}], response_url=url())).status == 200
    assert interactive(hub, base("block_actions", actions=[], trigger_id="t.1")).status == 400
    assert interactive(hub, base("block_actions", actions="commit", trigger_id="t.1")).status == 400
    assert interactive(hub, base("message_action", callback_id="propose_from_message", response_url=url())).status == 200
    assert interactive(hub, base("shortcut", user=None, callback_id="x", trigger_id="t.1")).status == 400
    assert len(apologies(hub)) == 4
    assert all(answer["response_type"] == "ephemeral" and answer.get("replace_original") is False for answer in apologies(hub))

    # A form is answered inside the modal.
    for payload in (base("view_submission"), base("view_submission", user=None, view={"id": "V1", "callback_id": "commit"})):
        response = interactive(hub, payload)
        assert response.status == 200 and response.json["response_action"] == "update"
        assert "could not read this form" in json.dumps(response.json["view"])

    # A slash command is answered in the answer itself.
    response = hub.sender.post_form({"command": "/cdo", "text": "help", "trigger_id": "t.1"})
    assert response.status == 200 and response.json["response_type"] == "ephemeral" and SORRY in response.json["text"]

    assert emulator.views == [] and emulator.calls_to("chat.postMessage") == []
    assert counts(hub) == before
    assert_quiet(logged, requests=10)


def test_damaged_button_values_change_nothing_and_say_sorry(hub, logged, initiative, promised):
    emulator = hub.emulator
    emulator.reset_records()
    before = counts(hub)
    with hub.runtime.sessions() as session:
        status = session.get(Initiative, initiative.id).status

    def press(action: Action, value: str, **extra):
        response = steps.click(hub, user_id="U0CIO", action_id=action.value, value=value, message_ts=initiative.hub_ts, **extra)
        assert response.status == 200, response.body_text

    for damaged in ("{bad", "null", '{"commitment": "1"}', '{"commitment": true}', '{"commitment": 99999999999}', "[" * 1500):
        press(Action.COMMITMENT_DONE, damaged)
    press(Action.COMMITMENT_SLIP, '{"commitment": -1}')
    press(Action.COMMIT, '{"initiative": null}')
    press(Action.NUDGE_ON_IT, '{"pair": 1}')
    press(Action.INITIATIVE_STATUS, "", selected_option={"value": json.dumps({"initiative": initiative.id, "status": "deleted"})})
    press(Action.INITIATIVE_STATUS, "", selected_option={"text": "no value"})

    assert len(apologies(hub)) == 11
    assert steps.commitment(hub, promised.id).status == "open"
    with hub.runtime.sessions() as session:
        assert session.get(Initiative, initiative.id).status == status
    assert emulator.views == [] and emulator.calls_to("chat.update") == [] and emulator.calls_to("chat.postMessage") == []
    assert counts(hub) == before
    assert_quiet(logged, requests=11)

    # The same buttons with what the hub wrote still work.
    press(Action.COMMITMENT_DONE, dump(CommitmentRef(promised.id)))
    assert steps.commitment(hub, promised.id).status == "done"


def test_a_change_inside_a_form_with_broken_metadata_is_400_and_updates_nothing(hub, logged):
    view = {"id": "V0FORM", "hash": "1.a", "callback_id": View.PROPOSE.value, "private_metadata": '{"channel": "not an id"}'}
    response = hub.send(
        "block_action",
        user_id="U0CMO",
        action_id=Action.JOURNEY_CHANGED.value,
        trigger_id=hub.emulator.new_trigger_id(),
        view=view,
        selected_option={"value": "customer"},
    )
    assert response.status == 400
    assert hub.emulator.calls_to("views.update") == []
    assert_quiet(logged, requests=1)


@pytest.mark.parametrize(
    "callback, metadata",
    [
        (View.COMMIT, "nope"),
        (View.COMMIT, ""),
        (View.COMMIT, '{"initiative": "1"}'),
        (View.COMMIT, '{"initiative": 4294967296}'),
        (View.SLIP, '{"commitment": 1, "seen_due": "2026-02-30"}'),
        (View.BLOCKED, "[]"),
        (View.PROPOSE, '{"channel": "C0HUB\\u0000"}'),
        (View.PROPOSE, '{"message_ts": "nan"}'),
    ],
)
def test_a_form_with_broken_metadata_says_so_in_the_modal_and_stores_nothing(hub, logged, initiative, callback, metadata):
    values = {
        View.COMMIT: forms.commitment(giver="it", taker="marketing", what="An API", due=SOON),
        View.SLIP: {"due": {"value": forms.day(LATER)}, "reason": {"value": forms.text("late")}},
        View.BLOCKED: {"reason": {"value": forms.text("blocked")}},
        View.PROPOSE: forms.proposal(),
    }[callback]
    before = counts(hub)
    response = hub.send("view_submission", user_id="U0CIO", callback_id=callback.value, values=values, private_metadata=metadata)
    assert response.status == 200
    assert response.json["response_action"] == "update"
    assert "Nothing was saved" in json.dumps(response.json["view"])
    assert counts(hub) == before
    assert_quiet(logged, requests=1)


# --- slash-command arguments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "argument, answer",
    [
        ("status ²", "Which initiative?"),
        ("status ١٢", "Which initiative?"),
        ("status 99999999999999999999", "Which initiative?"),
        ("status #0", "There is no initiative #0"),
        ("commit ²", "Which initiative?"),
        ("list <!channel>", "&lt;!channel&gt;"),
        ("\x00", "is not something I know"),
    ],
)
def test_slash_command_arguments_of_any_shape_get_a_friendly_answer(hub, logged, argument, answer):
    response = hub.command(argument, user_id="U0CMO")
    assert response.status == 200
    assert answer in response.body_text
    assert "<!channel>" not in response.body_text
    assert_quiet(logged)


# --- text with control characters -----------------------------------------------------------------


def test_control_characters_are_cleaned_before_storage_on_every_path(hub, logged):
    title = "One\x00 customer view\x1b[0m across ERP\u2028"
    problem = "Sales\r\nand service\x00 disagree\ud800\x85"
    obstacles = "ERP\x00\x07"
    initiative = steps.propose(hub, title=title, problem=problem, obstacles=obstacles, functions=["marketing", "it"])
    assert (initiative.title, initiative.problem, initiative.obstacles) == (
        clean(title).strip(),
        "Sales\nand service disagree",
        "ERP",
    )
    assert initiative.title == "One customer view[0m across ERP"

    # A NUL in a commitment's text: the form closes, and the commitment is stored.
    response = steps.submit_commitment(
        hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what="A golden\x00 record\x0c", due=SOON
    )
    assert response.status == 200 and not response.body_text.strip()
    with hub.runtime.sessions() as session:
        promised = session.scalars(select(Commitment)).one()
    assert promised.what == "A golden record"

    for callback, values in (
        (View.SLIP, {"due": {"value": forms.day(LATER)}, "reason": {"value": forms.text("late\x00\x07 again")}}),
        (View.BLOCKED, {"reason": {"value": forms.text("\x00waiting\x1f for IT")}}),
    ):
        seen = steps.commitment(hub, promised.id).due.isoformat()
        metadata = dump(ChangeMeta(promised.id, seen))
        response = hub.send("view_submission", user_id="U0CIO", callback_id=callback.value, values=values, private_metadata=metadata)
        assert response.status == 200 and not response.body_text.strip(), response.body_text
    with hub.runtime.sessions() as session:
        reasons = list(
            session.scalars(select(CommitmentChange.reason).where(CommitmentChange.reason.is_not(None)).order_by(CommitmentChange.id))
        )
    assert reasons == ["late again", "waiting for IT"]

    # A thread reply in #it is mirrored into the hub thread cleaned.
    route = next(f for f in initiative.functions if f.function_key == "it")
    message = hub.emulator.add_user_message(route.route_channel, "U0IT1", "Ready\x00 on\x08 our side", thread_ts=route.route_ts)
    event = {
        "type": "message",
        "channel": route.route_channel,
        "user": "U0IT1",
        "text": message.text,
        "ts": message.ts,
        "thread_ts": route.route_ts,
        "channel_type": "channel",
    }
    assert hub.send("event", event=event).status == 200
    with hub.runtime.sessions() as session:
        [mirror] = session.scalars(select(Outbox).where(Outbox.kind == "mirror"))
    assert mirror.status == "sent"  # its text, as the outbox kept it, is what Slack received
    [mirrored] = [m for m in hub.emulator.thread("C0HUB", initiative.hub_ts) if m.user == "UBOT" and "Ready" in m.text]
    assert "Ready on our side" in mirrored.text
    assert_quiet(logged)


# --- events ------------------------------------------------------------------------------------------


def reply_event(**changes) -> dict:
    event = {
        "type": "message",
        "channel": "C0IT",
        "user": "U0IT1",
        "text": "hi",
        "ts": "1712345679.000100",
        "thread_ts": "1712345678.000100",
    }
    event.update(changes)
    return {key: value for key, value in event.items() if value is not None}


@pytest.mark.parametrize(
    "event, event_id",
    [
        (reply_event(channel=None), None),
        (reply_event(ts="nan"), None),
        (reply_event(ts="1e400"), None),
        (reply_event(thread_ts="inf"), None),
        (reply_event(user={"id": "U0IT1"}), None),
        (reply_event(channel="C0IT\x00"), None),
        (reply_event(files=3), None),
        (reply_event(text=["hi"]), None),
        (reply_event(subtype=["x"]), None),
        (reply_event(), "Ev\x00"),
        (reply_event(), "E" * 65),
        ({"type": "app_home_opened"}, None),
        ({"type": 5}, None),
    ],
)
def test_a_malformed_event_is_400_and_stores_nothing(hub, logged, initiative, event, event_id):
    before = counts(hub)
    response = hub.send("event", event=event, event_id=event_id)
    assert response.status == 400, response.body_text
    assert counts(hub) == before
    assert_quiet(logged, requests=1)


def test_events_of_a_type_nobody_subscribed_to_are_acknowledged_and_said_once_per_type(hub, logged, initiative, monkeypatch):
    monkeypatch.setattr(ignored, "_told", set())
    monkeypatch.setattr(ignored, "NAMED_AT_MOST", 2)
    before, calls = counts(hub), len(hub.emulator.calls)
    mention = {"type": "app_mention", "user": "U0IT1", "channel": "C0IT", "text": "<@UBOT> hello", "ts": "1712345679.000100"}
    reaction = {"type": "reaction_added", "user": "U0IT1", "reaction": "eyes", "item": {"type": "message", "channel": "C0IT", "ts": "1.0"}}
    for event in (mention, {"type": "x" * 5000}, mention, reaction, {"type": "team_join"}):
        response = hub.send("event", event=event)
        assert response.status == 200, response.body_text
    envelope = {"type": "event_callback", "team_id": "T0CDOHUB", "api_app_id": "A0CDOHUB", "event_id": "Ev0SOCKET", "event": reaction}
    assert hub.app.dispatch(BoltRequest(body=envelope, mode="socket_mode")).status == 200  # Socket Mode alike
    hub.settle()
    assert counts(hub) == before and len(hub.emulator.calls) == calls
    said = [record.getMessage() for record in logged.records if record.name == ignored.log.name]
    assert said == [
        "events of type 'app_mention' have no use here: acknowledged and ignored (manifest.json does not subscribe to them)",
        f"events of type {'x' * 100!r} have no use here: acknowledged and ignored (manifest.json does not subscribe to them)",
        "events of 3 types or more have no use here: acknowledged and ignored, and no longer named",
    ]
    assert_quiet(logged)


# --- without web.py: Socket Mode, and listeners that raise -------------------------------------------


def test_the_guard_answers_in_socket_mode_too(hub, logged):
    payload = base("block_actions", actions=[], trigger_id="t.1", response_url=hub.emulator.new_response_url())
    response = hub.app.dispatch(BoltRequest(body=payload, mode="socket_mode"))
    hub.settle()
    assert response.status == 200
    assert len(apologies(hub)) == 1
    assert_quiet(logged, requests=1)


def test_a_listener_that_raises_is_one_log_line(hub, logged):
    app = create_app(hub.runtime, listener_executor=hub.executor)  # with the hub's own error handler

    @app.action("test_damaged")
    def damaged(ack, body):
        load(CommitmentRef, body["actions"][0]["value"])
        ack()

    @app.action("test_bug")
    def bug(ack):
        raise RuntimeError("a bug of ours")

    @app.view("test_form")
    def form(ack, view):
        load(CommitmentRef, view["private_metadata"])
        ack()

    def dispatch(payload: dict):
        response = app.dispatch(BoltRequest(body=payload, mode="socket_mode"))
        hub.settle()
        return response

    button = base("block_actions", actions=[{"action_id": "test_damaged", "value": "{bad"}], trigger_id="t.1")
    assert dispatch({**button, "response_url": hub.emulator.new_response_url()}).status == 200
    assert len(apologies(hub)) == 1
    submitted = dispatch(
        base("view_submission", view={"id": "V1", "type": "modal", "callback_id": "test_form", "private_metadata": "{bad"})
    )
    assert submitted.status == 200 and json.loads(submitted.body)["response_action"] == "update"
    assert len([r for r in logged.records if "damaged value" in r.getMessage()]) == 2

    # A bug of ours is one line saying where, and the person is told it did not work.
    bugged = base("block_actions", actions=[{"action_id": "test_bug"}], trigger_id="t.1")
    answered = dispatch({**bugged, "response_url": hub.emulator.new_response_url()})
    assert answered.status == 200 and json.loads(answered.body) == {"response_type": "ephemeral", "text": FAILED}
    [failure] = [r for r in logged.records if r.levelno == logging.ERROR]
    assert "RuntimeError: a bug of ours" in failure.getMessage() and "test_hostile_requests.py" in failure.getMessage()
    assert len(apologies(hub)) == 1
    assert_quiet(logged)


def test_a_damaged_value_found_after_the_ack_is_answered_at_the_response_url(hub, logged):
    screen = guard.Guard.for_app(hub.app, hub.settings)
    body = base("block_actions", actions=[{"action_id": "x"}], trigger_id="t.1", response_url=hub.emulator.new_response_url())
    assert screen.on_error(BadValue("CommitmentRef: not JSON"), body, None) is None
    hub.settle()
    assert len(apologies(hub)) == 1
    assert_quiet(logged, requests=1)
