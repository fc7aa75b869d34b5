"""The Slack emulator must refuse what Slack refuses; these tests drive it through slack_sdk."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.sandbox import Emulator, SignedSender, Workspace

TOKEN = "xoxb-sandbox"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now_value = now

    def __call__(self) -> float:
        return self.now_value

    def now(self) -> float:  # the interface slack_sdk's SignatureVerifier expects
        return self.now_value


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> WebClient:
    return WebClient(token=TOKEN, base_url=emu.base_url, retry_handlers=[])


def slack_error(call, **kwargs) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    return info.value


# ---- chat ----------------------------------------------------------------------


def test_post_message_is_stored_with_strictly_increasing_ts(emu: Emulator, client: WebClient) -> None:
    emu.clock = FakeClock()  # a frozen clock must still yield unique ts values
    sent = [client.chat_postMessage(channel="#cdo-hub", text=f"m{i}") for i in range(3)]
    stamps = [r["ts"] for r in sent]
    assert all(r["channel"] == "C0HUB" for r in sent)
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 3
    assert [m.text for m in emu.messages("cdo-hub")] == ["m0", "m1", "m2"]
    assert emu.message("C0HUB", stamps[1]).bot_id == "BBOT"


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        ("C0FIN", "not_in_channel"),
        ("#finance", "not_in_channel"),
        ("C0SECRET", "channel_not_found"),
        ("C0NOPE", "channel_not_found"),
        ("C0OLD", "is_archived"),
    ],
)
def test_post_message_refusals(emu: Emulator, client: WebClient, channel: str, error: str) -> None:
    assert slack_error(client.chat_postMessage, channel=channel, text="hi").response["error"] == error
    assert [c.response["error"] for c in emu.errors()] == [error]
    assert emu.messages(channel) == []


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")  # blocks-only on purpose
def test_text_rules(client: WebClient) -> None:
    assert slack_error(client.chat_postMessage, channel="C0HUB").response["error"] == "no_text"
    too_long = "x" * 40_001
    assert slack_error(client.chat_postMessage, channel="C0HUB", text=too_long).response["error"] == "msg_too_long"
    assert client.chat_postMessage(channel="C0HUB", blocks=[SECTION])["ok"]


@pytest.mark.parametrize(
    "blocks",
    [
        [{"type": "no_such_block"}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        [SECTION] * 51,
        [{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x" * 76}}]}],
    ],
    ids=["unknown-type", "section-text-too-long", "51-blocks", "button-label-too-long"],
)
def test_invalid_blocks_are_refused(emu: Emulator, client: WebClient, blocks: list) -> None:
    error = slack_error(client.chat_postMessage, channel="C0HUB", text="t", blocks=blocks)
    assert error.response["error"] == "invalid_blocks"
    assert error.response["response_metadata"]["messages"]
    assert emu.messages("C0HUB") == []


def test_fifty_blocks_are_accepted(client: WebClient) -> None:
    assert client.chat_postMessage(channel="C0HUB", text="t", blocks=[SECTION] * 50)["ok"]


def test_form_encoded_json_fields_are_decoded(emu: Emulator, client: WebClient) -> None:
    params = {"channel": "C0HUB", "text": "t", "blocks": json.dumps([SECTION])}
    ts = client.api_call("chat.postMessage", params=params)["ts"]
    assert emu.message("C0HUB", ts).blocks == [SECTION]
    params["blocks"] = "[not json"
    error = slack_error(client.api_call, api_method="chat.postMessage", params=params)
    assert error.response["error"] == "invalid_blocks_format"


def test_threads_updates_and_permalinks(emu: Emulator, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0IT", text="parent")["ts"]
    reply = client.chat_postMessage(channel="C0IT", text="reply", thread_ts=parent)["ts"]
    assert [m.text for m in emu.thread("C0IT", parent)] == ["reply"]
    assert [m["text"] for m in client.conversations_replies(channel="C0IT", ts=reply)["messages"]] == [
        "parent",
        "reply",
    ]
    assert slack_error(client.chat_postMessage, channel="C0IT", text="x", thread_ts="1.2").response["error"] == ("thread_not_found")

    link = client.chat_getPermalink(channel="C0IT", message_ts=reply)["permalink"]
    digits = reply.replace(".", "")
    assert link == f"https://cdo-hub.slack.com/archives/C0IT/p{digits}?thread_ts={parent}&cid=C0IT"
    assert client.chat_getPermalink(channel="C0IT", message_ts=parent)["permalink"].endswith("/p" + parent.replace(".", ""))
    error = slack_error(client.chat_getPermalink, channel="C0IT", message_ts="1.000001")
    assert error.response["error"] == "message_not_found"

    client.chat_update(channel="C0IT", ts=parent, text="edited")
    assert emu.message("C0IT", parent).text == "edited" and emu.message("C0IT", parent).edited
    human = emu.add_user_message("#it", "U0IT1", "mine")
    error = slack_error(client.chat_update, channel="C0IT", ts=human.ts, text="hijack")
    assert error.response["error"] == "cant_update_message"


def test_ephemeral_needs_the_user_in_the_channel(emu: Emulator, client: WebClient) -> None:
    client.chat_postEphemeral(channel="C0HR", user="U0HR1", text="only you")
    error = slack_error(client.chat_postEphemeral, channel="C0HR", user="U0IT1", text="nope")
    assert error.response["error"] == "user_not_in_channel"
    assert [(e.user, e.text) for e in emu.ephemerals()] == [("U0HR1", "only you")]
    assert emu.messages("C0HR") == []


def test_dm_by_user_id(emu: Emulator, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="U0HR1", text="konnichiwa")
    assert posted["channel"].startswith("D")
    assert client.conversations_open(users="U0HR1")["channel"]["id"] == posted["channel"]
    assert [m.text for m in emu.dms("U0HR1")] == ["konnichiwa"]
    assert slack_error(client.conversations_open, users="U0GONE").response["error"] == "user_disabled"


def test_group_dm_opens_once_for_the_same_people(emu: Emulator, client: WebClient) -> None:
    opened = client.conversations_open(users="U0CHRO,U0CMO")
    group = opened["channel"]["id"]
    assert group.startswith("G") and opened["already_open"] is False
    assert client.conversations_open(users="U0CHRO,U0CMO")["channel"]["id"] == group
    assert client.conversations_info(channel=group)["channel"]["is_mpim"] is True
    client.chat_postMessage(channel=group, text="meet each other")
    assert [m.text for m in emu.messages(group)] == ["meet each other"]
    assert client.conversations_open(users="U0CHRO,U0CIO")["channel"]["id"] != group
    for users, error in (
        ("U0CHRO,U0NOBODY", "user_not_found"),
        ("U0CHRO,U0GONE", "user_disabled"),
        ("U0CHRO,U0OTHERBOT", "cannot_dm_bot"),
        (",".join(f"U0X{n}" for n in range(9)), "too_many_users"),
    ):
        assert slack_error(client.conversations_open, users=users).response["error"] == error


# ---- conversations and users ----------------------------------------------------


def test_join_public_but_not_private_or_archived(emu: Emulator, client: WebClient) -> None:
    assert client.conversations_join(channel="C0FIN")["channel"]["is_member"] is True
    assert client.chat_postMessage(channel="C0FIN", text="now I can")["ok"]
    error = slack_error(client.conversations_join, channel="C0SECRET")
    assert error.response["error"] == "method_not_supported_for_channel_type"
    assert slack_error(client.conversations_join, channel="C0OLD").response["error"] == "is_archived"
    assert slack_error(client.conversations_info, channel="C0SECRET").response["error"] == "channel_not_found"


def test_members_pagination(client: WebClient) -> None:
    members, cursor, pages = [], None, 0
    while True:
        page = client.conversations_members(channel="C0HUB", limit=2, cursor=cursor)
        members += page["members"]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert members == sorted({"U0CDO", "U0CEO", "U0CMO", "U0CIO", "U0CHRO", "UBOT"})
    assert slack_error(client.conversations_members, channel="C0HUB", cursor="junk").response["error"] == ("invalid_cursor")


def test_conversations_list_hides_private_channels_the_bot_is_not_in(client: WebClient) -> None:
    listed = client.conversations_list(types="public_channel,private_channel", exclude_archived=True)
    ids = {c["id"] for c in listed["channels"]}
    assert ids == {"C0HUB", "C0MKT", "C0IT", "C0HR", "C0FIN"}


def test_users_info_reports_time_zones(client: WebClient) -> None:
    user = client.users_info(user="U0IT1")["user"]
    assert user["tz"] == "America/New_York" and user["tz_offset"] in (-5 * 3600, -4 * 3600)
    assert client.users_info(user="U0HR1")["user"]["tz_offset"] == 9 * 3600
    assert client.users_info(user="U0GONE")["user"]["deleted"] is True
    assert slack_error(client.users_info, user="U0NOBODY").response["error"] == "user_not_found"


# ---- views ---------------------------------------------------------------------------


def modal(title: str = "Log initiative") -> dict:
    title_text = {"type": "plain_text", "text": title}
    return {"type": "modal", "callback_id": "log", "title": title_text, "blocks": [SECTION]}


def test_views_open_trigger_rules(emu: Emulator, client: WebClient) -> None:
    clock = emu.clock = FakeClock()
    trigger = emu.new_trigger_id()
    opened = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert opened["id"].startswith("V") and opened["hash"]
    assert slack_error(client.views_open, trigger_id=trigger, view=modal()).response["error"] == ("exchanged_trigger_id")
    stale = emu.new_trigger_id()
    clock.now_value += 3.5
    assert slack_error(client.views_open, trigger_id=stale, view=modal()).response["error"] == "expired_trigger_id"
    assert slack_error(client.views_open, trigger_id="trg.bogus", view=modal()).response["error"] == ("invalid_trigger_id")
    assert [v.id for v in emu.views] == [opened["id"]]


def test_invalid_view_is_refused_without_spending_the_trigger(emu: Emulator, client: WebClient) -> None:
    trigger = emu.new_trigger_id()
    error = slack_error(client.views_open, trigger_id=trigger, view=modal("x" * 25))
    assert error.response["error"] == "invalid_arguments"
    assert error.response["response_metadata"]["messages"][0].startswith("[ERROR]")
    assert client.views_open(trigger_id=trigger, view=modal())["ok"]


def test_views_update_checks_hash_and_publish_stores_home(emu: Emulator, client: WebClient) -> None:
    opened = client.views_open(trigger_id=emu.new_trigger_id(), view=modal())["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2"))["view"]
    assert updated["id"] == opened["id"]
    error = slack_error(client.views_update, view_id=opened["id"], hash="stale", view=modal())
    assert error.response["error"] == "hash_conflict"

    home = {"type": "home", "blocks": [SECTION]}
    client.views_publish(user_id="U0CEO", view=home)
    assert emu.home("U0CEO")["blocks"] == [SECTION] and emu.home("U0CMO") is None
    error = slack_error(client.views_publish, user_id="U0CEO", view={"type": "home", "blocks": [SECTION] * 101})
    assert error.response["error"] == "invalid_arguments"


# ---- faults, auth, limits ----------------------------------------------------------------


def test_429_is_retried_by_slack_sdk(emu: Emulator, retry_waits: list[float]) -> None:
    emu.rate_limit("chat.postMessage", retry_after=1)
    client = WebClient(token=TOKEN, base_url=emu.base_url, retry_handlers=[RateLimitErrorRetryHandler()])
    assert client.chat_postMessage(channel="C0HUB", text="eventually")["ok"]
    assert len(retry_waits) == 1 and retry_waits[0] >= 1.0  # the client honoured Retry-After
    assert [c.status for c in emu.calls_to("chat.postMessage")] == [429, 200]
    assert [m.text for m in emu.messages("C0HUB")] == ["eventually"]


def test_per_channel_post_rate(client: WebClient) -> None:
    with Emulator(post_rate_per_channel=1) as emu:
        emu.clock = clock = FakeClock()
        limited = WebClient(token=TOKEN, base_url=emu.base_url, retry_handlers=[])
        limited.chat_postMessage(channel="C0HUB", text="1")
        error = slack_error(limited.chat_postMessage, channel="C0HUB", text="2")
        assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "1"
        assert limited.chat_postMessage(channel="C0IT", text="other channel")["ok"]
        clock.now_value += 1.01
        assert limited.chat_postMessage(channel="C0HUB", text="3")["ok"]


def test_per_channel_post_rate_with_a_burst() -> None:
    with Emulator(post_rate_per_channel=1, post_burst=3) as emu:
        emu.clock = clock = FakeClock()
        limited = WebClient(token=TOKEN, base_url=emu.base_url, retry_handlers=[])
        for n in range(3):  # a burst is taken at once…
            assert limited.chat_postMessage(channel="C0HUB", text=f"burst {n}")["ok"]
        error = slack_error(limited.chat_postMessage, channel="C0HUB", text="one too many")
        assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "1"
        clock.now_value += 1.0  # …then one a second
        assert limited.chat_postMessage(channel="C0HUB", text="a second later")["ok"]
        assert slack_error(limited.chat_postMessage, channel="C0HUB", text="too soon").response.status_code == 429
        clock.now_value += 10.0  # a quiet while refills the burst, no more
        assert all(limited.chat_postMessage(channel="C0HUB", text=f"again {n}")["ok"] for n in range(3))
        assert slack_error(limited.chat_postMessage, channel="C0HUB", text="over").response.status_code == 429


def test_injected_failures_and_revoked_token(emu: Emulator, client: WebClient) -> None:
    emu.fail("chat.postMessage", "channel_not_found", when=lambda args: args["channel"] == "C0IT")
    assert client.chat_postMessage(channel="C0HUB", text="unaffected")["ok"]
    assert slack_error(client.chat_postMessage, channel="C0IT", text="x").response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C0IT", text="fault used up")["ok"]

    emu.server_error("users.info", status=503)
    assert slack_error(client.users_info, user="U0CEO").response.status_code == 503

    emu.revoke_token()
    assert slack_error(client.auth_test).response["error"] == "token_revoked"
    emu.restore_token()
    assert client.auth_test()["user_id"] == "UBOT"
    assert [c.method for c in emu.errors()] == ["chat.postMessage", "users.info", "auth.test"]


def test_auth_and_unknown_methods(emu: Emulator) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=emu.base_url, retry_handlers=[])
    assert slack_error(wrong.auth_test).response["error"] == "invalid_auth"
    request = urllib.request.Request(emu.base_url + "auth.test", data=b"", method="POST")
    assert json.load(urllib.request.urlopen(request))["error"] == "not_authed"
    error = slack_error(WebClient(token=TOKEN, base_url=emu.base_url).api_call, api_method="chat.teleport")
    assert error.response.status_code == 404 and error.response["error"] == "unknown_method"


# ---- response_url ------------------------------------------------------------------


def test_response_url_records_and_limits(emu: Emulator) -> None:
    url = emu.new_response_url()
    webhook = WebhookClient(url)
    assert webhook.send(text="done", response_type="ephemeral").status_code == 200
    assert webhook.send(text="t", blocks=[{"type": "nope"}]).status_code == 400
    assert [(r.json["text"], r.status) for r in emu.responses] == [("done", 200), ("t", 400)]
    assert all(webhook.send(text="again").status_code == 200 for _ in range(4))
    assert webhook.send(text="sixth").status_code == 404  # Slack allows 5 uses
    assert WebhookClient(emu.url + "/response/unknown").send(text="x").status_code == 404


# ---- signed requests ------------------------------------------------------------------


def test_sign_matches_slack_reference_computation() -> None:
    body, timestamp, secret = b"token=x&team_id=T0CDOHUB&text=hello", 1_700_000_000, "8f742231b10e8888abcd"
    expected = "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    signature = SignedSender("http://unused", secret).sign(body, timestamp)
    assert signature == expected
    verifier = SignatureVerifier(secret, clock=FakeClock(timestamp + 10))
    assert verifier.is_valid(body, str(timestamp), signature)
    assert not verifier.is_valid(body + b"!", str(timestamp), signature)


class _Recorder(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_signed_requests_verify_and_carry_slack_fields() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    _Recorder.received = []
    try:
        sender = SignedSender(f"http://127.0.0.1:{server.server_address[1]}/slack/events", "s3cret")
        sender.command(text="status", user_id="U0CMO", trigger_id="trg.1", response_url="http://r", channel_id="C0MKT")
        sent = sender.event({"type": "app_mention", "user": "U0CEO", "text": "<@UBOT> hi"}, retry_num=1)
        sender.post(b"{}", "application/json", timestamp=int(time.time()) - 600)  # stale on purpose
    finally:
        server.shutdown()
        server.server_close()

    verifier = SignatureVerifier("s3cret")
    (cmd_headers, cmd_body), (ev_headers, ev_body), (stale_headers, stale_body) = _Recorder.received
    assert verifier.is_valid_request(cmd_body, cmd_headers)
    form = {k: v[0] for k, v in parse_qs(cmd_body.decode()).items()}
    assert form["command"] == "/cdo" and form["text"] == "status"
    assert form["channel_name"] == "marketing" and form["user_name"] == "marc.mkt"
    assert verifier.is_valid_request(ev_body, ev_headers)
    envelope = json.loads(ev_body)
    assert envelope["event_id"] == sent.event_id and envelope["type"] == "event_callback"
    assert ev_headers["X-Slack-Retry-Num"] == "1" and ev_headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert not verifier.is_valid_request(stale_body, stale_headers)


def test_default_workspace_shape() -> None:
    ws = Workspace.default()
    assert ws.channel("#it").members >= {"UBOT", "U0CIO", "U0IT1"}
    assert "UBOT" not in ws.channel("finance").members and ws.channel("C0SECRET").is_private
    assert ws.channel("C0OLD").is_archived and ws.user("U0OTHERBOT").is_bot and ws.user("U0GONE").deleted
    assert ws.channel("#nope") is None
