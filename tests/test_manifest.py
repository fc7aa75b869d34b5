"""manifest.json against the code: scopes, events, the slash command and the shortcuts.

An install asks people to grant every scope the manifest lists, and Slack answers
`missing_scope` (which the gateway treats as a broken install) to a call whose scope was not
granted: so the manifest holds exactly the scopes the code needs, no more.

The Web API calls are found by reading the source under bot/ (the sandbox aside), wherever
the files live: a string that is a Slack method name (`gateway.call("chat.update", ...)` and
the gateway's named helpers) and a call on a Slack client (`client.views_open(...)`). A
method this file does not know fails the test, so whoever adds a call adds its scopes here.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from bot.config import SlackConfig
from bot.slack.ids import Shortcut
from bot.slack.listeners.events.ignored import ignore_event

ROOT = Path(__file__).resolve().parents[1]
MANIFEST: dict[str, Any] = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
GRANTED = frozenset(MANIFEST["oauth_config"]["scopes"]["bot"])
BOT_EVENTS = frozenset(MANIFEST["settings"]["event_subscriptions"]["bot_events"])

# The conversations the hub reads and posts in: public ("channels") and private ("groups")
# channels. DMs are only written, by chat.postMessage to a user ID.
KINDS = ("channels", "groups")


def _per_kind(action: str) -> frozenset[str]:
    # Conversations methods need the scope of each kind of conversation they are used on.
    return frozenset(f"{kind}:{action}" for kind in KINDS)


# The bot scopes each Web API method requires (Slack's method reference).
SCOPES: dict[str, frozenset[str]] = {
    "auth.test": frozenset(),
    "chat.getPermalink": frozenset(),
    "chat.postEphemeral": frozenset({"chat:write"}),
    # A user ID as the channel posts in the app's DM with that person: chat:write is enough.
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),  # the bot's own messages
    # Also in the introductions' group DMs, where a post is looked for after a crash.
    "conversations.history": _per_kind("history") | {"mpim:history"},
    "conversations.info": _per_kind("read"),
    "conversations.join": frozenset({"channels:join"}),  # public channels only
    "conversations.list": _per_kind("read"),
    "conversations.members": _per_kind("read"),
    # A one-to-one DM to share the digest's picture in (im:write), and the introductions' group
    # DMs (mpim:write).
    "conversations.open": frozenset({"im:write", "mpim:write"}),
    "conversations.replies": _per_kind("history"),
    "files.completeUploadExternal": frozenset({"files:write"}),
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.list": frozenset({"files:read"}),  # an upload looked for after a crash
    "users.info": frozenset({"users:read"}),
    "users.list": frozenset({"users:read"}),
    "users.lookupByEmail": frozenset({"users:read", "users:read.email"}),  # granted together
    "views.open": frozenset(),
    "views.publish": frozenset(),
    "views.push": frozenset(),
    "views.update": frozenset(),
}

# The scope each bot event subscription requires.
EVENT_SCOPES: dict[str, frozenset[str]] = {
    "app_home_opened": frozenset(),
    "app_mention": frozenset({"app_mentions:read"}),
    "message.channels": frozenset({"channels:history"}),
    "message.groups": frozenset({"groups:history"}),
    "message.im": frozenset({"im:history"}),
    "message.mpim": frozenset({"mpim:history"}),
}

# Client helpers that are not one Web API method.
CLIENT_HELPERS = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
# The same helpers named as the gateway names the calls it makes (`files.upload_v2`).
NAMED_HELPERS = {name.replace("_", ".", 1): methods for name, methods in CLIENT_HELPERS.items()}
# Every Web API method slack_sdk knows, by its client attribute (`chat_postMessage`).
CLIENT_METHODS = {name for name in vars(WebClient) if not name.startswith("_") and callable(getattr(WebClient, name))}
KNOWN_METHODS = {name.replace("_", ".") for name in CLIENT_METHODS} - {"api.call"}


def _is_client(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "client") or (isinstance(node, ast.Attribute) and node.attr == "client")


def _methods_in(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in KNOWN_METHODS:
            found.add(node.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in NAMED_HELPERS:
            found.update(NAMED_HELPERS[node.value])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_client(node.func.value):
            attr = node.func.attr
            if attr in CLIENT_HELPERS:
                found.update(CLIENT_HELPERS[attr])
            elif attr in CLIENT_METHODS and attr != "api_call":
                found.add(attr.replace("_", "."))
    return found


def called_methods() -> dict[str, set[str]]:
    """Every Web API method the hub's code calls, with the files that call it."""
    calls: dict[str, set[str]] = defaultdict(set)
    for path in sorted((ROOT / "bot").rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[:2] == ("bot", "sandbox"):
            continue
        for method in _methods_in(ast.parse(path.read_text(encoding="utf-8"), str(relative))):
            calls[method].add(relative.as_posix())
    return calls


def test_the_scan_finds_calls_in_both_forms():
    source = (
        'hub.gateway.call("conversations.members", channel=c)\nclient.views_open(trigger_id=t, view=v)\n'
        'client.files_upload_v2(file=f)\nlog.info("users.info")'
    )
    assert _methods_in(ast.parse(source)) == {
        "conversations.members",
        "views.open",
        "users.info",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    }
    # A method name is a whole string; text that merely mentions one is not a call.
    assert _methods_in(ast.parse('x = "see chat.postMessage"\nclient.retry_handlers.append(h)')) == set()


def test_every_method_the_code_calls_has_its_scopes_in_this_file():
    calls = called_methods()
    # The gateway posts messages; a scan that misses it is looking in the wrong place.
    assert "chat.postMessage" in calls, f"no call to chat.postMessage found under {ROOT / 'bot'}"
    unknown = {method: sorted(files) for method, files in calls.items() if method not in SCOPES}
    assert not unknown, "; ".join(
        f"{method} (called in {', '.join(files)}) is not in SCOPES in tests/test_manifest.py: "
        "add it with the bot scopes Slack's reference gives for it, and the scopes to manifest.json"
        for method, files in sorted(unknown.items())
    )


def test_the_manifest_grants_every_scope_the_calls_need():
    missing = [
        f"{method} (called in {', '.join(sorted(files))}) needs {', '.join(sorted(SCOPES[method] - GRANTED))}"
        for method, files in sorted(called_methods().items())
        if method in SCOPES and not SCOPES[method] <= GRANTED
    ]
    assert not missing, "manifest.json lacks bot scopes: " + "; ".join(missing)


def test_the_manifest_grants_no_scope_nothing_uses():
    needed: set[str] = set()
    for method in called_methods():
        needed |= SCOPES.get(method, frozenset())
    unknown_events = BOT_EVENTS - EVENT_SCOPES.keys()
    assert not unknown_events, f"add the scopes of {sorted(unknown_events)} to EVENT_SCOPES in tests/test_manifest.py"
    for event in BOT_EVENTS:
        needed |= EVENT_SCOPES[event]
    features = MANIFEST["features"]
    if features.get("slash_commands") or features.get("shortcuts"):
        needed.add("commands")
    assert GRANTED - needed == set(), f"manifest.json asks for scopes nothing uses: {sorted(GRANTED - needed)}"


# --- what the app listens to -----------------------------------------------------------

# Bolt keeps no public list of its listeners. Each listener's matchers are closures made by
# Bolt's builtin factories, named after them, holding the constraint they were given.
FACTORY_KINDS = {
    "event": "event",
    "message_event": "event",
    "command": "command",
    "shortcut": "shortcut",
    "message_shortcut": "shortcut",
    "global_shortcut": "shortcut",
}
CONSTRAINT_KEYS = {"event": "type", "shortcut": "callback_id"}


def factory(matcher: Any) -> str:
    """The name of the Bolt factory that made a matcher ("event", "command"…)."""
    return getattr(getattr(matcher, "func", None), "__qualname__", "").split(".<locals>")[0]


def registered(app: App) -> dict[str, set[str]]:
    """What the app answers, by kind: event types, slash commands, shortcut callback IDs."""
    found: dict[str, set[str]] = defaultdict(set)
    for listener in app._listeners:
        for matcher in listener.matchers:
            func = getattr(matcher, "func", None)
            kind = FACTORY_KINDS.get(factory(matcher))
            if kind is None:
                continue
            bound = inspect.getclosurevars(func).nonlocals
            value = next((bound[key] for key in ("event_type", "command", "callback_id", "constraints") if key in bound), None)
            if isinstance(value, dict):
                value = value.get(CONSTRAINT_KEYS.get(kind, ""))
            if kind == "event" and isinstance(value, re.Pattern) and value.pattern == "":
                continue  # the catch-all that acknowledges events nobody subscribed to: it names no type
            assert isinstance(value, str), (
                f"cannot read what a {kind} listener answers from {bound!r}: Bolt's matchers changed, update registered()"
            )
            found[kind].add(value)
    return found


def taking(app: App, event_type: str) -> list[Any]:
    """The app's listeners that would take an event of this type, in Bolt's order: Bolt runs
    the first of them only."""
    event = {"type": event_type, "channel": "C0HUB", "channel_type": "channel", "user": "U0CMO", "text": "hi", "ts": "1.000001"}
    body = {"type": "event_callback", "team_id": "T0CDOHUB", "api_app_id": "A0CDOHUB", "event_id": "Ev0", "event": event}
    request = BoltRequest(body=body, mode="socket_mode")
    return [listener for listener in app._listeners if listener.matches(req=request, resp=BoltResponse(status=200))]


def ignores(listener: Any) -> bool:
    """Whether the listener is the catch-all (`safely` keeps the name of what it wraps)."""
    function = listener.ack_function
    return (function.__module__, function.__qualname__) == (ignore_event.__module__, ignore_event.__qualname__)


def answers_event(app: App, event_type: str) -> bool:
    """Whether a listener of the app takes an event of this type, as Bolt routes it, rather than
    the catch-all that acknowledges and ignores what nobody subscribed to."""
    found = taking(app, event_type)
    return bool(found) and not ignores(found[0])


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Any:
    """The Bolt app as `cdo-hub serve` builds it (through the sandbox harness, as tests do)."""
    from bot.sandbox.emulator import Emulator
    from bot.sandbox.harness import LocalHub, demo_settings

    url = f"sqlite:///{tmp_path_factory.mktemp('manifest') / 'cdo-hub.db'}"
    with Emulator() as emulator, LocalHub(demo_settings(url), emulator) as hub:
        yield hub.app


def _event_type(subscription: str) -> str:
    # message.channels, message.groups…: one `message` event, per kind of conversation.
    return subscription.split(".")[0]


def test_the_subscribed_events_are_the_events_the_app_listens_to(app):
    listened = registered(app)["event"]
    assert listened, "no event listener found in the app"
    assert {_event_type(e) for e in BOT_EVENTS} == listened
    for event_type in listened:
        assert answers_event(app, event_type), f"Bolt routes no {event_type} event to a listener"


def test_an_event_nobody_subscribed_to_is_taken_by_the_catch_all_and_nothing_else(app):
    assert [ignores(listener) for listener in taking(app, "reaction_added")] == [True]
    assert not answers_event(app, "reaction_added")
    # The last event listener, so that it never takes an event a listener after it would take.
    events = [listener for listener in app._listeners if any(FACTORY_KINDS.get(factory(m)) == "event" for m in listener.matchers)]
    assert [events.index(listener) for listener in events if ignores(listener)] == [len(events) - 1]


def test_message_events_come_from_the_conversations_the_hub_reads():
    # Replies count in the hub channel and the functions' channels, public or private; the
    # hub answers no DM (message.im), so its Messages tab is read-only.
    messages = {e for e in BOT_EVENTS if _event_type(e) == "message"}
    assert messages == {f"message.{kind}" for kind in KINDS}


def test_the_app_home_has_the_home_tab_and_a_read_only_messages_tab(app):
    home = MANIFEST["features"]["app_home"]
    assert home["home_tab_enabled"] is ("app_home_opened" in registered(app)["event"])
    assert home["messages_tab_enabled"] is True  # DMs from the hub appear there
    assert home["messages_tab_read_only_enabled"] is ("message.im" not in BOT_EVENTS)


def test_the_slash_command_is_the_default_command():
    [command] = MANIFEST["features"]["slash_commands"]
    assert command["command"] == SlackConfig().command


def test_the_message_shortcuts_are_the_shortcuts_the_app_answers(app):
    shortcuts = MANIFEST["features"]["shortcuts"]
    assert {s["type"] for s in shortcuts} == {"message"}
    callback_ids = {s["callback_id"] for s in shortcuts}
    assert callback_ids == {member.value for member in Shortcut}
    assert callback_ids == registered(app)["shortcut"]
