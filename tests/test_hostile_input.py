"""Properties of every parser of Slack input and of the rendering of user text, for any input:
no exception escapes but the one each parser documents, and nothing a person typed comes out
as a live mention or link, or over Block Kit's limits."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import fields, replace
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt import App, BoltRequest
from slack_bolt.authorization import AuthorizeResult

from bot.app.follow import find_function
from bot.core import initiatives
from bot.core.text import clean
from bot.models import Commitment, CommitmentChange, Initiative, InitiativeFunction, Pair
from bot.sandbox.emulator import block_problems
from bot.sandbox.harness import demo_settings
from bot.slack import blocks as bk
from bot.slack import guard, messages, mirror, modals
from bot.slack import requests as request_messages
from bot.slack.ids import (
    INT_RANGE,
    MESSAGE_TS,
    SLACK_ID,
    TOKEN,
    Action,
    BadValue,
    Block,
    CommitmentRef,
    DateOffer,
    NudgeRef,
    Shortcut,
    StatusChoice,
    View,
    dump,
    load,
)
from bot.slack.listeners.commands.call import parse_id
from bot.slack.listeners.events.thread_reply import is_person_reply, read_reply
from bot.slack.listeners.views.propose import read_proposal
from bot.slack.messages import InitiativeRef
from bot.slack.modals import ChangeMeta, CommitMeta, ProposeMeta, State

FEW = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SETTINGS = demo_settings("sqlite://")

# --- strategies --------------------------------------------------------------------------------

TRAPS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0EVIL>",
    "<#C0EVIL>",
    "<https://evil.example|your bank>",
    "<mailto:x@evil.example>",
    "&amp;",
    "&lt;",
    "&",
    "|",
    "@channel",
    "*bold*",
    "`code`",
    "\x00",
    "\x1b[31m",
    "\r\n",
    "\u2028",
    "\ud800",
    "\x85",
]
hostile = st.lists(st.one_of(st.sampled_from(TRAPS), st.text(max_size=20)), max_size=10).map("".join)
long_hostile = st.one_of(hostile, st.builds(lambda text, times: (text or "<!here>") * times, hostile, st.integers(50, 400)))
leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12), st.sampled_from(TRAPS))
json_values = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12
)
slack_ids = st.from_regex(SLACK_ID, fullmatch=True)
timestamps = st.from_regex(MESSAGE_TS, fullmatch=True)
statuses = st.sampled_from(sorted(initiatives.STATUSES))

VALUE_TYPES = [InitiativeRef, CommitmentRef, StatusChoice, NudgeRef, ProposeMeta, CommitMeta, ChangeMeta]
VALID = {
    InitiativeRef: st.builds(InitiativeRef, st.integers(0, 2**31 - 1)),
    CommitmentRef: st.builds(CommitmentRef, st.integers(0, 2**31 - 1)),
    StatusChoice: st.builds(StatusChoice, st.integers(0, 2**31 - 1), statuses),
    NudgeRef: st.builds(NudgeRef, st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1)),
    ProposeMeta: st.builds(ProposeMeta, st.none() | slack_ids, st.none() | timestamps, st.integers(0, 1000)),
    CommitMeta: st.builds(CommitMeta, st.integers(0, 2**31 - 1)),
    ChangeMeta: st.builds(ChangeMeta, st.integers(0, 2**31 - 1), st.none() | st.dates().map(date.isoformat)),
}


def raw_values(cls: type) -> st.SearchStrategy[object]:
    """Anything a button value or metadata could hold: text, JSON, and objects with the right
    keys and wrong values."""
    names = [field.name for field in fields(cls)]
    near_misses = st.dictionaries(st.sampled_from(names), json_values, max_size=len(names)).map(json.dumps) if names else st.just("{}")
    return st.one_of(st.none(), st.text(max_size=50), json_values, json_values.map(json.dumps), near_misses, VALID[cls].map(dump))


# --- text cleaning -----------------------------------------------------------------------------

UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")


@FEW
@given(long_hostile)
def test_clean_text_keeps_no_control_character_and_can_always_be_stored(text):
    cleaned = clean(text)
    assert not UNWANTED.search(cleaned)
    cleaned.encode("utf-8")  # a lone surrogate would raise here, as in both databases
    assert clean(cleaned) == cleaned


@FEW
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"])))
def test_clean_text_leaves_ordinary_text_alone(text):
    assert clean(text) == text
    assert clean(f"{text}\r\n{text}\t") == f"{text}\n{text}\t"


# --- button values and private_metadata ------------------------------------------------------------


@pytest.mark.parametrize("cls", VALUE_TYPES, ids=lambda cls: cls.__name__)
def test_every_value_type_loads_what_it_dumped_and_refuses_the_rest_with_bad_value(cls):
    @FEW
    @given(VALID[cls])
    def round_trip(value):
        assert load(cls, dump(value)) == value

    @FEW
    @given(raw_values(cls))
    def anything(raw):
        try:
            value = load(cls, raw)
        except BadValue:
            return
        assert isinstance(value, cls)
        for field in fields(value):
            got = getattr(value, field.name)
            assert got is None or (isinstance(got, int) and not isinstance(got, bool) and got in INT_RANGE) or TOKEN.fullmatch(got)

    round_trip()
    anything()


def test_a_bad_value_is_one_typed_error():
    for raw in ("{bad", "[1]", '"x"', '{"commitment": true}', '{"commitment": "3"}', '{"commitment": 99999999999}', "[" * 2000, 5):
        with pytest.raises(BadValue):
            load(CommitmentRef, raw)
    with pytest.raises(BadValue):
        load(StatusChoice, '{"initiative": 1, "status": "deleted"}')
    with pytest.raises(BadValue):
        load(ChangeMeta, '{"commitment": 1, "seen_due": "2026-02-30"}')
    assert issubclass(BadValue, ValueError)


# --- form values ------------------------------------------------------------------------------------

element = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.text(max_size=10),
            "value": st.one_of(json_values, long_hostile),
            "selected_option": st.one_of(json_values, st.fixed_dictionaries({"value": st.one_of(json_values, st.text())})),
            "selected_options": st.one_of(json_values, st.lists(st.fixed_dictionaries({"value": json_values}), max_size=3)),
            "selected_user": st.one_of(json_values, slack_ids, st.just("U0CEO\n"), st.just("U" + "0" * 40)),
            "selected_date": st.one_of(json_values, st.dates().map(date.isoformat), st.just("2026-02-30"), st.text(max_size=12)),
        },
    ),
)
block_ids = st.sampled_from([block.value for block in Block] + ["functions.3", "elsewhere"])
state_values = st.dictionaries(block_ids, st.one_of(json_values, st.dictionaries(st.text(max_size=8), element, max_size=2)), max_size=8)
views = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"state": st.one_of(json_values, st.fixed_dictionaries({"values": st.one_of(json_values, state_values)}))},
        optional={"private_metadata": raw_values(ProposeMeta)},
    ),
)


@FEW
@given(views)
def test_form_values_read_as_their_type_whatever_the_view_holds(view):
    state = State(view)
    for block in Block:
        assert isinstance(state.text(block), str)
        assert state.option(block) is None or isinstance(state.option(block), str)
        assert all(isinstance(value, str) for value in state.options(block))
        user = state.user(block)
        assert user is None or SLACK_ID.fullmatch(user)
        assert state.date(block) is None or isinstance(state.date(block), date)


@FEW
@given(views)
def test_a_proposal_read_from_any_form_is_validated_without_an_exception(view):
    try:
        proposal, _meta = read_proposal(view if isinstance(view, dict) else {}, "U0CMO")
    except BadValue:
        return  # the guard answers these before the listener runs
    initiatives.validate(proposal, SETTINGS, date(2026, 3, 9))


# --- slash-command arguments ----------------------------------------------------------------------


@FEW
@given(st.one_of(st.text(), st.sampled_from(["²", "١٢", "12.5", "-3", "+4", " 7 ", "#", "##5", "1" * 12, "0x10", "1_000"])))
def test_an_initiative_number_is_a_small_ascii_number_or_nothing(argument):
    found = parse_id(argument)
    assert found is None or (0 <= found < 10**9 and str(found) in argument)


@FEW
@given(st.integers(0, 10**9 - 1), st.sampled_from(["{}", "#{}", "  {} ", "#{}\n"]))
def test_an_initiative_number_is_read_as_people_type_it(number, form):
    assert parse_id(form.format(number)) == number


HUB = SimpleNamespace(settings=SETTINGS)


@FEW
@given(st.one_of(hostile, st.sampled_from(["<#C0IT|it>", "<#C0IT>", "<#|>", "<#C0IT|", "#", "<!channel>"])))
def test_a_function_argument_finds_a_configured_function_or_nothing(argument):
    found = find_function(HUB, argument)  # type: ignore[arg-type]
    assert found is None or found in SETTINGS.functions.values()


def test_a_function_is_found_by_key_name_or_channel():
    for function in SETTINGS.functions.values():
        for argument in (function.key, function.name.upper(), function.channel, f" {function.channel.lstrip('#')} "):
            assert find_function(HUB, argument) is function  # type: ignore[arg-type]


# --- thread replies ------------------------------------------------------------------------------

reply_events = st.fixed_dictionaries(
    {
        "type": st.one_of(st.just("message"), json_values),
        "channel": st.one_of(slack_ids, json_values),
        "ts": st.one_of(timestamps, json_values),
        "thread_ts": st.one_of(timestamps, json_values),
        "user": st.one_of(slack_ids, st.just("U0BOT"), json_values),
        "text": st.one_of(long_hostile, json_values),
    },
    optional={
        "subtype": st.one_of(st.sampled_from(["thread_broadcast", "file_share", "bot_message", "message_changed"]), json_values),
        "files": st.one_of(st.lists(json_values, max_size=3), json_values),
        "bot_id": json_values,
    },
)


@FEW
@given(st.one_of(reply_events, st.dictionaries(st.text(max_size=10), json_values, max_size=6)))
def test_a_reply_the_guard_lets_through_is_read_whole(event):
    person = is_person_reply(event, "U0BOT")
    assert isinstance(person, bool)
    if person and guard.inspect({"type": "event_callback", "event": event, "event_id": "Ev1"}) is None:
        reply = read_reply(event, "Ev1")
        assert all(isinstance(value, str) for value in (reply.channel, reply.thread_ts, reply.ts, reply.user, reply.text))
        assert isinstance(reply.files, int)


@FEW
@given(slack_ids, timestamps, timestamps, slack_ids, long_hostile, st.sampled_from([None, "thread_broadcast", "file_share"]))
def test_every_well_formed_reply_passes_the_guard_and_is_read_as_sent(channel, thread_ts, ts, user, text, subtype):
    event = {"type": "message", "channel": channel, "thread_ts": thread_ts, "ts": ts, "user": user, "text": text}
    if subtype:
        event["subtype"] = subtype
    assert guard.inspect({"type": "event_callback", "event": event, "event_id": "Ev1"}) is None
    if is_person_reply(event, "U0BOT"):
        assert read_reply(event, None).text == text


# --- the guard ------------------------------------------------------------------------------------


def action_payload(action: Action, **fields: Any) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U0CIO", "name": "cio"},
        "team": {"id": "T0CDOHUB", "domain": "cdo-hub"},
        "enterprise": None,
        "is_enterprise_install": False,
        "trigger_id": "trg.1",
        "response_url": "https://hooks.slack.com/actions/T0CDOHUB/1/x",
        "actions": [{"action_id": action.value, "block_id": "b", "type": "button", "action_ts": "1712345678.1", **fields}],
        "message": {"ts": "1712345678.000100", "text": "Nudge", "blocks": [{"type": "section", "block_id": "b"}]},
        "container": {"type": "message", "message_ts": "1712345678.000100", "channel_id": "C0HUB"},
        "channel": {"id": "C0HUB", "name": "cdo-hub"},
    }


def form_payload(view: View, metadata: Any) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": {"id": "U0CIO", "name": "cio"},
        "team": None,
        "enterprise": None,
        "response_urls": [],
        "trigger_id": "trg.1",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": view.value,
            "private_metadata": dump(metadata),
            "hash": "1.a",
            "state": {"values": {}},
        },
    }


def reply_payload(**event: Any) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": "T0CDOHUB",
        "event_id": "Ev0001",
        "authorizations": [{"team_id": "T0CDOHUB", "user_id": "U0BOT", "is_bot": True}],
        "event": {"type": "message", "channel": "C0IT", "user": "U0IT1", "text": "hi", "ts": "1712345679.000100", **event},
    }


# Requests as Slack sends them, one of each kind the hub answers.
TEMPLATES = [
    action_payload(Action.COMMIT, value=dump(InitiativeRef(12))),
    action_payload(Action.COMMITMENT_DONE, value=dump(CommitmentRef(3))),
    action_payload(Action.REQUEST_ACCEPT, value=dump(CommitmentRef(4))),
    action_payload(Action.REQUEST_ACCEPT_DATE, value=dump(DateOffer(4, "2026-04-15"))),
    action_payload(Action.NUDGE_SNOOZE, value=dump(NudgeRef(1, 2, 3))),
    action_payload(Action.OPEN_DISCUSSION, value=dump(InitiativeRef(12)), url="https://acme.slack.com/archives/C0HUB/p1"),
    action_payload(Action.INITIATIVE_STATUS, type="overflow", selected_option={"value": dump(StatusChoice(12, "done"))}),
    {
        **action_payload(Action.JOURNEY_CHANGED, type="static_select", selected_option={"value": "customer"}),
        "view": {"id": "V1", "type": "modal", "hash": "1.a", "private_metadata": dump(ProposeMeta("C0HUB", "1712345678.000100", 1))},
    },
    form_payload(View.PROPOSE, ProposeMeta()),
    form_payload(View.COMMIT, CommitMeta(12)),
    form_payload(View.SLIP, ChangeMeta(3, "2026-04-01")),
    form_payload(View.DECLINE, ChangeMeta(4, "2026-04-01")),
    {"command": "/cdo", "text": "status 12", "user_id": "U0CMO", "trigger_id": "trg.1", "channel_id": "C0HUB", "response_url": "https://x"},
    {
        "type": "message_action",
        "callback_id": Shortcut.PROPOSE_FROM_MESSAGE.value,
        "user": {"id": "U0CMO"},
        "trigger_id": "trg.1",
        "channel": {"id": "C0MKT"},
        "message": {"ts": "1712345678.000100", "text": "Let us fix onboarding"},
        "response_url": "https://hooks.slack.com/app/x",
    },
    reply_payload(thread_ts="1712345678.000100"),
    reply_payload(subtype="file_share", thread_ts="1712345678.000100", files=[{"id": "F1"}]),
    reply_payload(subtype="message_changed", message={"text": "edited"}),
    {"type": "event_callback", "event_id": "Ev0002", "event": {"type": "app_home_opened", "user": "U0CMO", "tab": "home"}},
    {"type": "url_verification", "challenge": "abc", "token": "t"},
]


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON value, as the keys and indexes that lead there."""
    found = [prefix]
    if isinstance(value, dict):
        found += [path for key, item in value.items() for path in paths(item, (*prefix, key))]
    elif isinstance(value, list):
        found += [path for index, item in enumerate(value) for path in paths(item, (*prefix, index))]
    return found


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A template with up to three places removed or replaced by something else."""
    body = json.loads(json.dumps(draw(st.sampled_from(TEMPLATES))))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(paths(body)))
        replacement = draw(st.one_of(json_values, hostile, st.just([]), st.just({})))
        if not path:
            body = replacement
            continue
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
    return body


def test_every_template_is_let_through():
    assert [guard.inspect(body) for body in TEMPLATES] == [None] * len(TEMPLATES)


def listeners_read(body: dict[str, Any]) -> None:
    """What the hub's listeners read from a body without looking first (see listeners/)."""
    kind = guard.kind_of(body)
    if kind == "block_actions":
        action = body["actions"][0]
        assert SLACK_ID.fullmatch(body["user"]["id"]) and isinstance(body["trigger_id"], str)
        action_id = action["action_id"]
        if action_id in guard.BUTTON_VALUES:
            load(guard.BUTTON_VALUES[action_id], action.get("value"))
        if action_id in guard.OPTION_VALUES:
            guard.option_value(action_id, action["selected_option"]["value"])
        if action_id in guard.IN_FORM_ACTIONS:
            view = body["view"]
            State(view).options(Block.FUNCTIONS)
            load(ProposeMeta, view.get("private_metadata"))
            assert isinstance(view["id"], str)
        message = body.get("message") or {}
        [block.get("block_id") == action.get("block_id") for block in message.get("blocks") or []]
        (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    elif kind == "view_submission":
        view = body["view"]
        assert SLACK_ID.fullmatch(body["user"]["id"])
        State(view).text(Block.TITLE)
        if view["callback_id"] in guard.FORM_METADATA:
            load(guard.FORM_METADATA[view["callback_id"]], view.get("private_metadata"))
    elif kind == "command":
        str(body.get("text") or "").strip().partition(" ")
        assert isinstance(body["trigger_id"], str)
    elif kind == "message_action":
        message = body.get("message") or {}
        (message.get("text") or "").strip()
        ProposeMeta(channel=(body.get("channel") or {}).get("id"), message_ts=message.get("ts"))
        assert isinstance(body["trigger_id"], str)
    elif kind == "event_callback":
        event = body["event"]
        if event["type"] == "message" and is_person_reply(event, "U0BOT"):
            read_reply(event, body.get("event_id"))
        if event["type"] == "app_home_opened":
            assert isinstance(event["user"], str)


def replica() -> tuple[App, list[Exception]]:
    """An app with the guard, a middleware function, and a listener that does nothing wherever
    the hub has one: Bolt's own reading of a body (the arguments it builds for a middleware
    function, a matcher and a listener), with no Slack and no database. The hub's app asks its
    matchers with the body alone (bot/slack/app.py `BodyMatcher`), but Bolt still builds every
    listener's arguments."""
    failures: list[Exception] = []
    # Bolt's warnings quote what they were sent (an unhandled event's type, in the code it
    # suggests): kept out of the test's captured log, which the test runner's workers send to
    # each other as UTF-8, and a lone surrogate of a generated body cannot be.
    quiet = logging.getLogger("tests.hostile_input.replica")
    quiet.propagate = False
    quiet.addHandler(logging.NullHandler())
    app = App(
        logger=quiet,
        signing_secret="unused in socket mode",
        authorize=lambda **_: AuthorizeResult(enterprise_id=None, team_id="T1", bot_user_id="U0BOT", bot_id="B0BOT", bot_token="xoxb-1"),
        process_before_response=True,
    )
    guard.register(app, SETTINGS)

    @app.middleware
    def attach(context, next):
        next()

    def nothing(ack):
        ack()

    for action in Action:
        app.action(action.value)(nothing)
    for view in View:
        app.view(view.value)(nothing)
    app.shortcut(Shortcut.PROPOSE_FROM_MESSAGE.value)(nothing)
    app.command(SETTINGS.slack.command)(nothing)
    app.event("message")(nothing)
    app.event("app_home_opened")(nothing)
    app.event(re.compile(""))(nothing)
    app.error(failures.append)
    return app, failures


REPLICA, FAILURES = replica()


@FEW
@given(st.one_of(mutated(), json_values))
def test_what_the_guard_lets_through_bolt_and_the_listeners_can_read(body):
    try:
        request = BoltRequest(body=body, mode="socket_mode")  # web.py answers 400 when Bolt cannot
    except Exception:
        return
    refusal = guard.inspect(request.body)
    if refusal is not None:
        assert refusal.problem
        return
    listeners_read(request.body)
    response = REPLICA.dispatch(request)
    assert not FAILURES, FAILURES
    assert response.status < 500


def test_the_guard_knows_the_value_of_every_button_the_hub_renders():
    initiative = hostile_initiative("t", "p", "o", "why")
    blocks = messages.card(initiative, SETTINGS)[1] + messages.commitment(initiative.commitments[0], SETTINGS)[1]
    for countered in (False, True):
        blocks += request_messages.message(hostile_request("what", "why", countered=countered), SETTINGS)[1]
    elements = [element for block in blocks if block["type"] == "actions" for element in block["elements"]]
    checked = 0
    for element in elements:
        if element["type"] == "button" and element["action_id"] in guard.BUTTON_VALUES:
            load(guard.BUTTON_VALUES[element["action_id"]], element["value"])
            checked += 1
        for option in element.get("options", []):
            guard.option_value(element["action_id"], option["value"])
            checked += 1
    assert checked >= 10


# --- rendering user text ---------------------------------------------------------------------------

THREAD = "https://acme.slack.com/archives/C0HUB/p1712345678123456"
OURS = re.compile(r"<@(U0CMO|U0CEO|U0CIO|U0MKT1)>|<#C0MKT>|<https://acme\.slack\.com/[^<>|\s]*\|[^<>]*>")


def shown(blocks: Any) -> list[str]:
    """Every text a person sees in these blocks."""
    if isinstance(blocks, dict):
        found = [blocks["text"]] if blocks.get("type") in ("mrkdwn", "plain_text") and isinstance(blocks.get("text"), str) else []
        return found + [text for key, value in blocks.items() if key != "text" or not found for text in shown(value)]
    if isinstance(blocks, list):
        return [text for item in blocks for text in shown(item)]
    return []


def assert_harmless(texts: list[str]) -> None:
    for text in texts:
        rest = OURS.sub("", text)
        assert "<" not in rest, f"a live mention or link from user text: {text!r}"
        assert "&" not in re.sub(r"&(amp|lt|gt);", "", rest), f"an unescaped & from user text: {text!r}"


def assert_fits(blocks: list[dict[str, Any]], limit: int = bk.MESSAGE_BLOCK_LIMIT) -> None:
    assert block_problems(blocks, limit) == []
    for block in blocks:
        if block.get("type") == "section" and "text" in block:
            assert len(block["text"]["text"]) <= bk.SECTION_TEXT_LIMIT
    for element in (item for block in blocks if block["type"] == "context" for item in block["elements"]):
        assert element.get("verbatim", True)
    for text in (block["text"] for block in blocks if block.get("type") == "section" and "text" in block):
        assert text["verbatim"] is True, "mrkdwn that Slack would auto-link"


def stored(text: str) -> str:
    """User text as the core keeps it."""
    return clean(text).strip()


def hostile_initiative(title: str, problem: str, obstacles: str, reason: str, what: str = "x", because: str = "y") -> Initiative:
    title, problem, obstacles, what, because = map(stored, (title, problem, obstacles, what, because))
    now = datetime(2026, 3, 9, 9, tzinfo=UTC)
    initiative = Initiative(
        id=12,
        title=title,
        problem=problem,
        journey="customer",
        obstacles=obstacles,
        status="proposed",
        proposer="U0CMO",
        sponsor="U0CEO",
        target_date=date(2026, 6, 1),
        source_permalink=THREAD,
        created_at=now,
        updated_at=now,
    )
    initiative.functions = [
        InitiativeFunction(function_key="marketing", reason=reason, route_status="posted", route_channel="C0MKT"),
        InitiativeFunction(function_key="it", reason=reason, route_status="failed", route_error="not_in_channel"),
    ]
    initiative.pairs = [Pair(function_a="it", function_b="marketing", state="stalled", last_joint_activity_at=now)]
    commitment = Commitment(
        id=3, from_function="it", to_function="marketing", owner="U0CIO", what=what, due=date(2026, 4, 1), status="open"
    )
    commitment.history = [
        CommitmentChange(actor="U0CIO", action="slip", to_status="slipped", new_due=date(2026, 4, 1), reason=because, at=now),
    ]
    initiative.commitments = [commitment]
    return initiative


@FEW
@given(long_hostile, st.integers(1, 3000))
def test_user_text_is_escaped_and_within_its_limit(text, limit):
    rendered = bk.user_text(text, limit)
    assert len(rendered) <= limit
    assert_harmless([rendered])


@FEW
@given(long_hostile)
def test_a_link_label_cannot_break_out_of_its_link(label):
    rendered = bk.link(THREAD, label)
    assert rendered.startswith(f"<{THREAD}|") and rendered.endswith(">")
    assert not set("<>|") & set(rendered[len(THREAD) + 2 : -1])


@FEW
@given(long_hostile, long_hostile, long_hostile, long_hostile, long_hostile, long_hostile)
def test_messages_about_initiatives_show_hostile_text_as_text(title, problem, obstacles, reason, what, because):
    initiative = hostile_initiative(title, problem, obstacles, reason, what, because)
    built = [
        messages.card(initiative, SETTINGS),
        messages.routed_post(initiative, initiative.functions[0], SETTINGS, THREAD),
        messages.route_failures(initiative, initiative.functions[1:], SETTINGS, THREAD),
        messages.confirmation(initiative, SETTINGS, THREAD, {"marketing": THREAD}),
        messages.listing([initiative] * 45, SETTINGS, "Open initiatives"),
        messages.status(initiative, SETTINGS, THREAD),
        messages.commitment(initiative.commitments[0], SETTINGS),
    ]
    for fallback, blocks in built:
        assert_fits(blocks)
        assert_harmless([fallback, *shown(blocks)])
    assert_harmless([messages.announcement(initiative.commitments[0].history[0])])
    for view in (
        modals.commit_modal(SETTINGS, 12, title, ["it", "marketing"], "it"),
        modals.change_modal(View.SLIP, 3, what, "2026-04-01"),
        modals.propose_modal(SETTINGS, title=title, problem=problem, obstacles=obstacles),
    ):
        assert_fits(view["blocks"], bk.VIEW_BLOCK_LIMIT)
        assert_harmless(shown([block for block in view["blocks"] if block["type"] != "input"]))


def hostile_request(what: str, because: str, *, countered: bool = False, status: str = "requested") -> Commitment:
    now = datetime(2026, 3, 9, 9, tzinfo=UTC)
    request = Commitment(
        id=4,
        initiative_id=12,
        from_function="it",
        to_function="marketing",
        owner=None,
        requested_by="U0MKT1",
        what=stored(what),
        due=date(2026, 4, 1),
        status=status,
        proposed_due=date(2026, 4, 15) if countered else None,
        proposed_by="U0CIO" if countered else None,
    )
    action = "declined" if status == "declined" else "other_date"
    request.history = [
        CommitmentChange(actor="U0MKT1", action="requested", to_status="requested", new_due=date(2026, 4, 1), at=now),
        CommitmentChange(
            commitment=request,
            commitment_id=4,
            actor="U0CIO",
            action=action,
            to_status=status,
            old_due=date(2026, 4, 1),
            new_due=date(2026, 4, 15),
            reason=stored(because),
            at=now,
        ),
    ]
    return request


@FEW
@given(long_hostile, long_hostile)
def test_requests_show_hostile_text_as_text(what, because):
    for request in (
        hostile_request(what, because),
        hostile_request(what, because, countered=True),
        hostile_request(what, because, status="declined"),
    ):
        fallback, blocks = request_messages.message(request, SETTINGS)
        assert_fits(blocks)
        assert_harmless([fallback, *shown(blocks)])
        assert_harmless([request_messages.announcement(request.history[-1])])
    for view in (
        modals.answer_modal(View.OTHER_DATE, 4, what, "2026-04-01"),
        modals.answer_modal(View.DECLINE, 4, what, "2026-04-01"),
        modals.commit_modal(SETTINGS, 12, what, ["it", "marketing"], "it", mine=["it"], on_behalf=True),
    ):
        assert_fits(view["blocks"], bk.VIEW_BLOCK_LIMIT)
        assert_harmless(shown([block for block in view["blocks"] if block["type"] != "input"]))


def hostile_names(name: str) -> Any:
    functions = {key: replace(function, name=name or "x") for key, function in SETTINGS.functions.items()}
    return replace(SETTINGS, functions=functions)


@FEW
@given(hostile, long_hostile)
def test_function_names_from_the_configuration_are_shown_as_text(name, title):
    settings_ = hostile_names(name)
    initiative = hostile_initiative(title, title, title, title)
    built = {
        "card": messages.card(initiative, settings_),
        "routed post": messages.routed_post(initiative, initiative.functions[0], settings_, THREAD),
        "status": messages.status(initiative, settings_, THREAD),
        "commitment": messages.commitment(initiative.commitments[0], settings_),
        "request": request_messages.message(hostile_request(title, title, countered=True), settings_),
    }
    for fallback, blocks in built.values():
        assert_fits(blocks)
        assert_harmless([fallback, *shown(blocks)])


@FEW
@given(long_hostile, long_hostile, st.integers(0, 3), st.booleans())
def test_a_mirrored_reply_shows_its_author_and_text_as_text(author, text, files, with_permalink):
    permalink = f"{THREAD}?thread_ts=1712345678.123456&cid=C0IT" if with_permalink else None
    fallback, blocks = mirror.mirror_message(author, "C0MKT", text, permalink=permalink, files=files)
    assert_fits(blocks)
    assert len(fallback) <= bk.FALLBACK_TEXT_LIMIT
    assert_harmless([fallback, *shown(blocks)])
