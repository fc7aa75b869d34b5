"""Slack's errors, as the hub meets them: a missing scope fails that one call and nothing else;
a token that stops working stops sending until `auth.test` answers again (asked at most every
30 s, from /healthz and from any call); rate limits and server errors on every method the hub
uses are retried, or reported, and never raised into a listener."""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import outbox
from bot.app.port import ErrorKind, InstallBroken, Result
from bot.clock import FixedClock
from bot.models import Commitment
from bot.sandbox import forms as sandbox_forms
from bot.sandbox.emulator import Emulator
from bot.sandbox.harness import LocalHub, demo_settings
from bot.slack import forms
from bot.slack.directory import Directory
from bot.slack.gateway import RECHECK_SECONDS, Gateway, make_client
from bot.slack.ids import Action, View
from tests.scenario import steps

NOW = datetime(2030, 3, 14, 10, 0, tzinfo=UTC)  # a Thursday, in working hours in Paris
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "Errors, met"}}
MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Errors"}, "blocks": [SECTION]}
HOME = {"type": "home", "blocks": [SECTION]}


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def gateway_for(emulator: Emulator, *, max_retries: int = 1, ticks: Ticks | None = None) -> Gateway:
    return Gateway(make_client(emulator.bot_token, emulator.base_url, max_retries=max_retries), monotonic=ticks or Ticks())


def healthz(hub: LocalHub) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(hub.url + "/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def local(migrated_sqlite_url: str, emulator: Emulator, ticks: Ticks, retry_waits: list[float]) -> Iterator[LocalHub]:
    """The hub over HTTP, its gateway on the test's monotonic clock and retrying 429s once
    (the client's pauses before a retry recorded, not slept)."""
    with LocalHub(demo_settings(migrated_sqlite_url), emulator, clock=FixedClock(NOW), migrate=False) as hub:
        gateway = gateway_for(emulator, ticks=ticks)
        hub.runtime.gateway, hub.runtime.directory = gateway, Directory(gateway)
        yield hub
        assert not hub.listener_errors, hub.listener_errors


# --- a missing scope fails one call ----------------------------------------------------------


def gateway_log(caplog: pytest.LogCaptureFixture, level: int = logging.ERROR) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.slack.gateway" and r.levelno >= level]


def test_missing_scope_on_chat_update_leaves_posting_working_and_healthz_healthy(local, emulator, caplog):
    caplog.set_level(logging.INFO)
    initiative = steps.propose(local, functions=["marketing", "it"])
    due = NOW.date() + timedelta(days=14)
    steps.submit_commitment(local, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what="a customer API", due=due)
    with local.runtime.sessions() as session:
        commitment = session.scalars(select(Commitment)).one()
    emulator.fail("chat.update", "missing_scope", times=100)

    ref = json.dumps({"commitment": commitment.id})
    steps.click(local, user_id="U0CIO", action_id=Action.COMMITMENT_DONE.value, value=ref, message_ts=commitment.hub_ts)

    assert steps.commitment(local, commitment.id).status == "done"
    announcements = [m for m in emulator.thread("C0HUB", initiative.hub_ts) if "marked commitment" in m.text]
    assert len(announcements) == 1, "posting goes on"
    assert [c.response["error"] for c in emulator.calls_to("chat.update")] == ["missing_scope"]
    assert local.runtime.gateway.install_error is None
    assert healthz(local) == (200, {"status": "ok", "database": "ok", "slack": "ok"})
    again = local.runtime.gateway.update_message("C0HUB", commitment.hub_ts, "redrawn")
    assert (again.ok, again.error, again.kind) == (False, "missing_scope", ErrorKind.OTHER)
    assert local.runtime.gateway.post_message("C0HUB", "still posting").ok
    [logged] = [m for m in gateway_log(caplog) if "missing_scope" in m]  # logged once, though it failed twice
    assert "chat.update" in logged


class ScopeStub:
    """Answers every method as Slack does when the app lacks the method's scope (the emulator's
    `fail` carries no `needed`/`provided`)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = {"ok": False, "error": "missing_scope", "needed": "chat:write", "provided": "channels:read,users:read"}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_missing_scope_is_named_in_the_log_once(caplog):
    caplog.set_level(logging.DEBUG)
    stub = ScopeStub()
    try:
        gateway = Gateway(make_client("xoxb-stub", stub.url))
        results = [gateway.post_message("C0HUB", "hello") for _ in range(3)]
    finally:
        stub.close()
    assert [(r.ok, r.error) for r in results] == [(False, "missing_scope")] * 3
    assert gateway.check_install() is None
    [logged] = gateway_log(caplog, logging.WARNING)
    assert "chat.postMessage" in logged and "chat:write" in logged and "channels:read,users:read" in logged


def test_no_permission_fails_the_call_and_not_the_install(emulator):
    gateway = gateway_for(emulator)
    emulator.fail("conversations.join", "no_permission")
    assert gateway.join("C0FIN").error == "no_permission"
    assert gateway.check_install() is None and gateway.join("C0FIN").ok


# --- a broken token, and its recovery --------------------------------------------------------


def auth_tests(emulator: Emulator) -> int:
    return len(emulator.calls_to("auth.test"))


def test_a_revoked_token_stops_sending_and_healthz_recovers_within_the_recheck_interval(local, emulator, ticks):
    steps.propose(local, title="Before the token was revoked")
    emulator.revoke_token()
    steps.propose(local, title="While the token is revoked")  # its card is owed, and fails
    gateway = local.runtime.gateway
    assert gateway.install_error == "token_revoked"
    assert healthz(local) == (503, {"status": "unavailable", "database": "ok", "slack": "install error: token_revoked"})
    posts = len(emulator.calls_to("chat.postMessage"))
    with pytest.raises(InstallBroken):
        gateway.post_message("C0HUB", "not sent")
    assert len(emulator.calls_to("chat.postMessage")) == posts, "nothing is sent while the token fails"

    emulator.restore_token()
    asked = auth_tests(emulator)
    ticks.advance(RECHECK_SECONDS - 1)
    assert healthz(local)[0] == 503 and auth_tests(emulator) == asked, "asked again only after the interval"
    ticks.advance(2)
    assert healthz(local) == (200, {"status": "ok", "database": "ok", "slack": "ok"})
    assert auth_tests(emulator) == asked + 1
    assert healthz(local)[0] == 200 and auth_tests(emulator) == asked + 1, "a working token is not asked about"

    # What was owed meanwhile goes out on the next delivery.
    local.runtime.clock.set(NOW + timedelta(minutes=5))
    report = outbox.drain(local.runtime)
    assert report.install_error is None and not report.failed
    cards = [m for m in emulator.messages("C0HUB") if "While the token is revoked" in m.text]
    assert len(cards) == 1


def test_while_the_token_fails_slack_is_asked_at_most_every_interval(emulator, ticks):
    gateway = gateway_for(emulator, ticks=ticks)
    emulator.revoke_token()
    with pytest.raises(InstallBroken):
        gateway.post_message("C0HUB", "hello")
    for _ in range(95):  # a health check and a call every second, for 95 seconds
        assert gateway.check_install() == "token_revoked"
        with pytest.raises(InstallBroken):
            gateway.user_info("U0CMO")
        ticks.advance(1)
    assert auth_tests(emulator) == 3  # at 30, 60 and 90 seconds
    assert [c.method for c in emulator.calls if c.method != "auth.test"] == ["chat.postMessage"]


def test_a_call_attempted_after_the_interval_finds_the_token_working_again(emulator, ticks):
    gateway = gateway_for(emulator, ticks=ticks)
    emulator.revoke_token()
    with pytest.raises(InstallBroken):
        gateway.post_message("C0HUB", "lost?")
    emulator.restore_token()
    ticks.advance(RECHECK_SECONDS)
    assert gateway.post_message("C0HUB", "back").ok
    assert gateway.install_error is None and auth_tests(emulator) == 1


@pytest.mark.parametrize("error", ["invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "team_disabled"])
def test_only_token_errors_stop_sending(emulator, error):
    gateway = gateway_for(emulator)
    emulator.fail("chat.postMessage", error)
    with pytest.raises(InstallBroken):
        gateway.post_message("C0HUB", "hello")
    assert gateway.check_install() == error


# --- rate limits and server errors on every method the hub uses ------------------------------

METHODS = (  # every Web API method the hub calls
    *("chat.postMessage", "chat.update", "chat.getPermalink", "users.info", "views.open", "views.update", "views.publish"),
    *(f"conversations.{name}" for name in ("info", "members", "list", "join", "history", "replies")),
)


def method_calls(emulator: Emulator, gateway: Gateway) -> dict[str, Callable[[], Result]]:
    """One call of each method, as the hub makes it, on things that exist."""
    ts = gateway.post_message("C0HUB", "a message to work on")["ts"]
    view_id = gateway.call("views.open", trigger_id=emulator.new_trigger_id(), view=MODAL)["view"]["id"]
    return {
        "chat.postMessage": lambda: gateway.post_message("C0HUB", "hello"),
        "chat.update": lambda: gateway.update_message("C0HUB", ts, "edited"),
        "chat.getPermalink": lambda: gateway.call("chat.getPermalink", channel="C0HUB", message_ts=ts),
        "conversations.info": lambda: gateway.channel_info("C0HUB"),
        "conversations.members": lambda: gateway.call("conversations.members", channel="C0HUB"),
        "conversations.list": lambda: gateway.call("conversations.list", types="public_channel"),
        "conversations.join": lambda: gateway.join("C0FIN"),
        "conversations.history": lambda: gateway.call("conversations.history", channel="C0HUB"),
        "conversations.replies": lambda: gateway.call("conversations.replies", channel="C0HUB", ts=ts),
        "users.info": lambda: gateway.user_info("U0CMO"),
        "views.open": lambda: gateway.call("views.open", trigger_id=emulator.new_trigger_id(), view=MODAL),
        "views.update": lambda: gateway.call("views.update", view_id=view_id, view=MODAL),
        "views.publish": lambda: gateway.publish_home("U0CMO", HOME),
    }


OK = (True, None, None)
RATE_LIMITED = (False, "ratelimited", ErrorKind.TRANSIENT)
SERVER_ERROR = (False, "internal_error", ErrorKind.TRANSIENT)  # the emulator's body for a 5xx
STEPS = (  # (what Slack does, what the gateway returns, how many times Slack was asked)
    ("one 429", OK, 2),
    ("one 503", OK, 2),
    ("a 429 storm", RATE_LIMITED, 2),  # this gateway retries a 429 once
    ("a 500 storm", SERVER_ERROR, 3),  # slack_sdk retries a 500 or 503 twice
    ("a 502 storm", SERVER_ERROR, 1),  # and no other 5xx
    ("calm again", OK, 1),
)


def weather(emulator: Emulator, method: str, step: str) -> None:
    faults: dict[str, Callable[[], None]] = {
        "one 429": lambda: emulator.rate_limit(method, times=1, retry_after=0),
        "one 503": lambda: emulator.server_error(method, times=1, status=503),
        "a 429 storm": lambda: emulator.rate_limit(method, times=2, retry_after=0),
        "a 500 storm": lambda: emulator.server_error(method, times=3, status=500),
        "a 502 storm": lambda: emulator.server_error(method, times=1, status=502),
        "calm again": lambda: None,
    }
    faults[step]()


def test_rate_limits_and_server_errors_on_every_method_are_retried_or_reported(emulator):
    gateway = gateway_for(emulator, max_retries=1)
    calls = method_calls(emulator, gateway)
    assert set(calls) == set(METHODS)

    def go_through(method: str) -> list[tuple[str, tuple[bool, str | None, ErrorKind | None], int]]:
        seen = []
        for step, _, _ in STEPS:
            before = len(emulator.calls_to(method))
            weather(emulator, method, step)
            result = calls[method]()  # never raises
            seen.append((step, (result.ok, result.error, result.kind), len(emulator.calls_to(method)) - before))
        return seen

    with ThreadPoolExecutor(max_workers=len(METHODS)) as pool:  # each method on its own: the waits overlap
        seen = dict(zip(METHODS, pool.map(go_through, METHODS), strict=True))
    assert seen == {method: list(STEPS) for method in METHODS}
    assert gateway.install_error is None


@pytest.mark.parametrize("storm", ["429", "502"])
def test_modals_opened_and_updated_with_bolts_client_report_storms(emulator, storm):
    client = make_client(emulator.bot_token, emulator.base_url, max_retries=1)
    for method in ("views.open", "views.update"):
        if storm == "429":
            emulator.rate_limit(method, times=2, retry_after=0)
        else:
            emulator.server_error(method, status=502)
    expected = "ratelimited" if storm == "429" else "internal_error"
    assert forms.open_view(client, emulator.new_trigger_id(), MODAL) == expected
    assert forms.open_view(client, emulator.new_trigger_id(), MODAL) is None
    [opened] = emulator.views
    assert forms.update_view(client, opened.id, None, MODAL) == expected
    assert forms.update_view(client, opened.id, None, MODAL) is None


def reply(hub: LocalHub, channel: str, thread_ts: str, user: str, text: str):
    """A person replies in a thread in Slack; Slack sends the event."""
    message = hub.emulator.add_user_message(channel, user, text, thread_ts=thread_ts)
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": message.ts, "thread_ts": thread_ts}
    return hub.send("event", event={**event, "event_ts": message.ts, "channel_type": "channel"})


LOYALTY = "Loyalty app on the new CRM"


class Storm:
    """Every method the hub uses fails while the storm lasts."""

    def __init__(self, emulator: Emulator, kind: str) -> None:
        self.raging = False
        for method in METHODS:
            if kind == "429":
                emulator.rate_limit(method, times=10**6, retry_after=0, when=lambda _args: self.raging)
            else:
                emulator.server_error(method, times=10**6, status=502, when=lambda _args: self.raging)


@pytest.mark.parametrize("kind", ["429", "502"])
def test_a_storm_on_every_method_never_crashes_a_listener_and_loses_nothing(local, emulator, kind):
    storm = Storm(emulator, kind)
    initiative = steps.propose(local, functions=["marketing", "it"])
    due = NOW.date() + timedelta(days=14)
    steps.submit_commitment(local, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what="a customer API", due=due)
    with local.runtime.sessions() as session:
        commitment = session.scalars(select(Commitment)).one()
    local.command("propose Better onboarding", user_id="U0HR1")
    [form] = emulator.views
    it_channel, it_thread = next((f.route_channel, f.route_ts) for f in initiative.functions if f.function_key == "it")

    storm.raging = True
    local.runtime.directory = Directory(local.runtime.gateway)  # nothing cached: lookups meet the storm too
    answers = [
        local.command("propose Candidate journey", user_id="U0HR1"),  # views.open
        local.send(  # views.update
            "block_action",
            user_id="U0HR1",
            action_id=Action.JOURNEY_CHANGED.value,
            block_id="journey",
            trigger_id=emulator.new_trigger_id(),
            view={**form.view, "id": form.id, "state": {"values": sandbox_forms.proposal(journey="employee")}},
            selected_option={"value": "employee"},
        ),
        reply(local, it_channel, it_thread, "U0IT1", "The ERP export runs nightly now"),  # a mirror is owed
        steps.click(  # an announcement and a redraw are owed
            local,
            user_id="U0CIO",
            action_id=Action.COMMITMENT_DONE.value,
            value=json.dumps({"commitment": commitment.id}),
            message_ts=commitment.hub_ts,
        ),
        local.send("event", event={"type": "app_home_opened", "user": "U0CMO", "channel": "D0HOME", "tab": "home"}),
        local.send(
            "view_submission",
            user_id="U0CMO",
            callback_id=View.PROPOSE.value,
            # No sponsor: a sponsor is looked up in Slack, and the storm makes that a refusal in the form.
            values=sandbox_forms.proposal(title=LOYALTY, sponsor=None),
        ),
    ]
    assert [a.status for a in answers] == [200] * len(answers)
    assert [a.body_text for a in answers] == [""] * len(answers)  # the form was accepted
    met = {c.method for c in emulator.errors()}
    # Who reads a channel (conversations.info) is asked before a reply is copied and before a Home
    # tab is drawn: while Slack cannot say, the copy waits and the tab is not published.
    assert met == {"chat.postMessage", "chat.update", "conversations.info", "conversations.list", "views.open", "views.update"}
    storm.raging = False

    local.runtime.clock.set(NOW + timedelta(hours=1))
    report = outbox.drain(local.runtime)
    assert not report.failed and report.install_error is None, report
    hub_thread = emulator.thread("C0HUB", initiative.hub_ts)
    assert sum("ERP export" in m.text for m in hub_thread) == 1
    assert sum("marked commitment" in m.text for m in hub_thread) == 1
    assert sum(LOYALTY in m.text for m in emulator.messages("C0HUB")) == 1
    assert steps.commitment(local, commitment.id).status == "done"
    redrawn = [c for c in emulator.calls_to("chat.update") if c.args.get("ts") == commitment.hub_ts and c.response["ok"]]
    assert len(redrawn) == 1
