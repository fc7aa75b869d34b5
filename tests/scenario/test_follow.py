"""/cdo list, /cdo status and `cdo-hub report` over what was proposed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date, timedelta

from sqlalchemy import event

from bot.app import follow
from bot.sandbox.harness import DEMO_CONFIG
from tests.scenario.steps import propose, sqlite_only, submit_commitment


def listed(hub, text: str, user_id: str) -> str:
    """A listing is answered after the ack (what the person may see may need Slack), through
    the response URL."""
    before = len(hub.emulator.responses)
    assert hub.command(text, user_id=user_id).status == 200
    [answer] = hub.emulator.responses[before:]
    assert answer.json["response_type"] == "ephemeral"
    return json.dumps(answer.json)


def test_list_filters_by_person_and_function(hub):
    propose(hub, user_id="U0CMO", title="Customer 360", functions=["marketing", "it"], sponsor="U0CEO")
    propose(hub, user_id="U0HR1", title="Onboarding portal", functions=["hr", "it"], sponsor="U0CEO")
    everything = listed(hub, "list", "U0IT1")
    assert "Customer 360" in everything and "Onboarding portal" in everything
    mine = listed(hub, "list mine", "U0HR1")
    assert "Onboarding portal" in mine and "Customer 360" not in mine
    marketing = listed(hub, "list Marketing", "U0IT1")
    assert "Customer 360" in marketing and "Onboarding portal" not in marketing
    stalled = listed(hub, "list stalled", "U0IT1")
    assert "none yet" in stalled
    unknown = json.dumps(hub.command("list <!here>", user_id="U0IT1").json)
    assert "neither" in unknown and "<!here>" not in unknown


def test_a_list_reads_the_initiatives_and_their_functions_only(hub):
    """What a list shows, and no more: not each initiative's pairs, commitments or obstacles."""
    first = propose(hub, user_id="U0CMO", title="Customer 360", functions=["marketing", "it", "hr"], sponsor="U0CEO")
    answer = submit_commitment(
        hub, first.id, user_id="U0MK1", giver="marketing", taker="it", what="Segments", due=date.today() + timedelta(days=9)
    )
    assert answer.status == 200 and not answer.body_text.strip(), answer.body_text
    read: list[str] = []

    def reading(_conn, _cursor, statement, *_args) -> None:
        read.append(statement)

    event.listen(hub.runtime.engine, "before_cursor_execute", reading)
    try:
        found = follow.listing(hub.runtime, "U0IT1", "")
    finally:
        event.remove(hub.runtime.engine, "before_cursor_execute", reading)
    assert [initiative.title for initiative in found.initiatives] == ["Customer 360"]
    assert found.initiatives[0].function_keys == ["marketing", "it", "hr"]
    tables = [re.findall(r"FROM (\w+)", statement)[0] for statement in read if statement.lstrip().upper().startswith("SELECT")]
    assert tables.count("initiatives") == 1 and tables.count("initiative_functions") == 1, read
    assert not {"pairs", "commitments", "initiative_obstacles"} & set(tables), read


@sqlite_only
def test_status_shows_routes_pairs_and_commitments(hub):
    initiative = propose(hub, functions=["marketing", "it"])
    submit_commitment(
        hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what="Customer API", due=date.today() + timedelta(days=3)
    )
    hub.command(f"status #{initiative.id}", user_id="U0HR1")
    shown = json.dumps(hub.emulator.responses[-1].json)
    for words in ("Routes", "posted", "Pairs", "IT, Marketing", "Commitments", "Customer API"):
        assert words in shown, words
    missing = hub.command("status 4242", user_id="U0HR1")
    assert "no initiative #4242" in missing.json["text"]


def test_report_initiatives_json_has_the_contract_fields(hub, tmp_path):
    initiative = propose(hub, functions=["marketing", "it"])
    submit_commitment(
        hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what="Customer API", due=date.today() + timedelta(days=3)
    )
    config = tmp_path / "config.toml"
    config.write_text(DEMO_CONFIG.read_text())
    env = {"DATABASE_URL": hub.settings.database_url, "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "report", "initiatives", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    [row] = json.loads(run.stdout)
    assert {"id", "title", "status", "functions", "proposer", "sponsor", "created_at", "pairs", "commitments"} <= set(row)
    assert row["functions"] == ["marketing", "it"]
    [pair] = row["pairs"]
    assert set(pair) >= {"functions", "state", "last_joint_activity_at", "nudges"} and pair["functions"] == ["it", "marketing"]
    [commitment] = row["commitments"]
    assert {k: commitment[k] for k in ("from", "to", "owner", "what", "status")} == {
        "from": "it",
        "to": "marketing",
        "owner": "U0CIO",
        "what": "Customer API",
        "status": "open",
    }
    csv_run = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "report", "commitments", "--format", "csv"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    header, line = csv_run.stdout.splitlines()
    assert header.startswith("id,initiative_id,from,to,owner,what,due,status") and "Customer API" in line


def test_pairs_shows_who_works_together_and_who_never_meets(hub):
    propose(hub, functions=["marketing", "it"])
    before = len(hub.emulator.responses)
    acked = hub.command("pairs", user_id="U0CEO")
    assert acked.status == 200 and not acked.body_text.strip()  # read over every pair: after the answer
    [answer] = hub.emulator.responses[before:]
    shown = json.dumps(answer.json, ensure_ascii=False)
    assert answer.json["response_type"] == "ephemeral"
    assert "of 3 pairs of functions work together" in answer.json["text"]
    assert "*Marketing × IT* — 1 joint initiative" in shown
    assert "Never met in 90 days" in shown
    assert shown.count("never-met") == 2  # HR with IT, HR with Marketing
