"""/cdo help, and what happens to requests that Slack did not sign."""

import json
import time
from urllib.parse import urlencode

import pytest

from tests.scenario.steps import sqlite_only


def _command_body(text: str) -> bytes:
    return urlencode({"command": "/cdo", "text": text, "user_id": "U0CMO", "team_id": "T0CDOHUB", "channel_id": "C0HUB"}).encode()


@sqlite_only
def test_help_lists_what_the_bot_can_do(hub):
    response = hub.command("help", user_id="U0CMO")
    assert response.status == 200
    body = response.json
    assert body["response_type"] == "ephemeral"
    rendered = json.dumps(body["blocks"])
    assert "/cdo propose" in rendered
    assert "Marketing, IT, HR" in rendered or "Marketing" in rendered


@sqlite_only
@pytest.mark.parametrize("text", ["", "frobnicate now"])
def test_no_or_unknown_subcommand_answers_with_help(hub, text):
    body = hub.command(text, user_id="U0IT1").json
    rendered = json.dumps(body["blocks"])
    assert "/cdo propose" in rendered
    if text:
        assert "`frobnicate` is not something I know" in rendered


@sqlite_only
def test_unknown_subcommand_is_escaped(hub):
    body = hub.command("<!channel>", user_id="U0IT1").json
    rendered = json.dumps(body["blocks"])
    assert "<!channel>" not in rendered
    assert "&lt;!channel&gt;" in rendered


@sqlite_only
@pytest.mark.parametrize(
    "signature, age",
    [(None, 0), ("v0=" + "0" * 64, 0), ("good", 600)],
    ids=["unsigned", "wrong-signature", "stale"],
)
def test_requests_slack_did_not_sign_get_401_and_do_nothing(hub, signature, age):
    body = _command_body("help")
    timestamp = int(time.time()) - age
    if signature == "good":
        signature = hub.sender.sign(body, timestamp)
    response = hub.sender.post(body, "application/x-www-form-urlencoded", timestamp=timestamp, signature=signature or "")
    hub.settle()
    assert response.status == 401
    assert hub.emulator.calls == []
    assert hub.emulator.responses == []


def test_healthz_reports_database(hub):
    from urllib.request import urlopen

    with urlopen(hub.url + "/healthz") as reply:
        assert reply.status == 200
        assert json.load(reply)["database"] == "ok"
