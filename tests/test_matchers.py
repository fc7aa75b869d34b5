"""The hub's app asks Bolt's built-in listener matchers with the body alone (bot/slack/app.py
`BodyMatcher`): every listener must be found for exactly the requests Bolt's own way of asking
finds it for."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt import App, BoltRequest, BoltResponse

from bot.sandbox.harness import LocalHub, demo_settings
from bot.slack.app import BodyMatcher
from bot.slack.ids import Action, Shortcut, View
from bot.slack.listeners import register_listeners

IDS = [*(a.value for a in Action), *(v.value for v in View), *(s.value for s in Shortcut), "", "other", "commit "]
TYPES = ["block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion", "event_callback", "other"]
EVENTS = ["message", "app_home_opened", "link_shared", "app_mention", "member_joined_channel", "reaction_added"]
SUBTYPES = [None, "message_replied", "thread_broadcast", "bot_message", "message_changed", "file_share"]

texts = st.one_of(st.sampled_from(IDS), st.text(max_size=8))


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Requests of every kind Slack sends, shaped as Slack shapes them (bodies Bolt's own way of
    asking cannot read, an empty `actions` say, the guard refuses before Bolt), naming the IDs
    the hub listens for and others."""
    kind = draw(st.sampled_from(["command", *TYPES]))
    if kind == "command":
        return {
            "command": draw(st.sampled_from(["/cdo", "/other"])),
            "text": draw(st.text(max_size=5)),
            "user_id": "U1",
            "trigger_id": "1.2.a",
        }
    if kind == "event_callback":
        event: dict[str, Any] = {"type": draw(st.one_of(st.sampled_from(EVENTS), texts)), "channel": "C1", "ts": "1.3", "user": "U1"}
        subtype = draw(st.sampled_from(SUBTYPES))
        if subtype is not None:
            event["subtype"] = subtype
        if draw(st.booleans()):
            event["thread_ts"] = "1.2"
        return {"type": kind, "event_id": "Ev1", "event": event}
    body: dict[str, Any] = {"type": kind, "user": {"id": "U1"}, "trigger_id": "1.2.a", "callback_id": draw(texts)}
    if kind in ("block_actions", "block_suggestion") or draw(st.booleans()):
        body["actions"] = draw(
            st.lists(st.fixed_dictionaries({"action_id": texts, "block_id": texts, "type": texts}), min_size=1, max_size=2)
        )
    if kind.startswith("view_") or draw(st.booleans()):
        body["view"] = {"id": "V1", "callback_id": draw(texts), "type": draw(st.sampled_from(["modal", "home"]))}
    return body


@pytest.fixture(scope="module")
def listeners(tmp_path_factory, sqlite_template):
    """The hub app's listeners (its app is made without being served), each beside the same
    listener registered on a plain Bolt app, which asks its matchers Bolt's own way."""
    import shutil

    from bot.sandbox.emulator import Emulator

    database = tmp_path_factory.mktemp("matchers") / "hub.db"
    shutil.copy(sqlite_template, database)
    with Emulator() as emulator:
        local = LocalHub(demo_settings(f"sqlite:///{database}"), emulator, migrate=False)
        try:
            plain = App(token="xoxb-unused", signing_secret="unused", token_verification_enabled=False)
            register_listeners(plain, local.runtime.settings)
            assert len(plain._listeners) == len(local.app._listeners)
            yield list(zip(local.app._listeners, plain._listeners, strict=True))
        finally:
            local.runtime.close()


def test_every_listener_is_asked_with_the_body_alone(listeners):
    assert listeners
    assert all(isinstance(hubs.matchers[0], BodyMatcher) for hubs, _plain in listeners)
    assert not any(isinstance(plain.matchers[0], BodyMatcher) for _hubs, plain in listeners)


@settings(max_examples=400, deadline=None)
@given(body=bodies())
def test_a_listener_matches_what_bolt_would_match(listeners, body):
    request = BoltRequest(body=body, mode="socket_mode")
    response = BoltResponse(status=404)
    for hubs, plain in listeners:
        assert hubs.matchers[0].matches(request, response) == plain.matchers[0].matches(request, response), (
            hubs.ack_function.__name__,
            body,
        )
