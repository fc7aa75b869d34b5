"""The obstacle ledger through signed requests against the emulator, on SQLite and Postgres:
links made from a proposal's words, changed from the card's menu (and refused to others),
`/cdo obstacles`, `cdo-hub report obstacles`, the digest's section and the owners' Home tab."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.clock import FixedClock
from bot.config import parse
from bot.core import digest as digests
from bot.models import Initiative, InitiativeObstacle
from bot.sandbox.harness import DEMO_CONFIG, LocalHub, demo_settings
from bot.slack.digest import digest_message
from bot.slack.ids import Action, Block, ObstacleMenu, View, dump
from tests.scenario.steps import click, propose

NOW = datetime(2030, 3, 14, 11, 0, tzinfo=UTC)
OBSTACLES = """
[obstacles.erp]
name = "Several ERP instances"
keywords = ["ERP"]
owner = "it"

[obstacles.dam]
name = "No digital asset management"
keywords = ["DAM", "digital asset management"]
owner = "it"

[obstacles.workflow]
name = "No workflow tool"
keywords = ["workflow"]
owner = "it"
"""
CONFIG = DEMO_CONFIG.read_text(encoding="utf-8")
assert OBSTACLES.strip() in CONFIG  # the sandbox workspace's obstacles, as the tests below expect them


@pytest.fixture
def hub(migrated_url, emulator):
    settings = demo_settings(migrated_url, text=CONFIG)
    with LocalHub(settings, emulator, clock=FixedClock(NOW), migrate=False) as running:
        yield running
        assert not running.listener_errors, running.listener_errors


def links(hub, initiative_id: int) -> dict[str, str]:
    with hub.runtime.sessions() as session:
        rows = session.execute(
            select(InitiativeObstacle.obstacle_key, InitiativeObstacle.reason).where(InitiativeObstacle.initiative_id == initiative_id)
        )
        return dict(rows.all())


def card_text(hub) -> str:
    [card] = [message for message in hub.emulator.messages("C0HUB") if not message.thread_ts]
    return json.dumps(card.blocks, ensure_ascii=False)


def menu(hub, user: str, initiative_id: int):
    option = {"value": dump(ObstacleMenu(initiative_id, "obstacles")), "text": {"type": "plain_text", "text": "Change obstacles"}}
    return click(hub, user_id=user, action_id=Action.INITIATIVE_STATUS.value, value=None, selected_option=option, action_type="overflow")


def choose(hub, user: str, initiative_id: int, keys: list[str]):
    chosen = [{"value": key, "text": {"type": "plain_text", "text": key}} for key in keys]
    return hub.send(
        "view_submission",
        user_id=user,
        callback_id=View.OBSTACLES.value,
        values={Block.OBSTACLE_LINKS.value: {"value": {"type": "multi_static_select", "selected_options": chosen}}},
        private_metadata=json.dumps({"initiative": initiative_id}),
    )


def test_a_proposal_is_linked_to_the_obstacles_its_words_name(hub):
    initiative = propose(
        hub,
        title="One customer view across our ERP instances",
        problem="Campaign images live in shared drives; approvals run through workflows by email.",
        obstacles="no dam",
    )
    # Whole words in any case: "workflows" is not the keyword "workflow".
    assert links(hub, initiative.id) == {"erp": "keyword 'ERP' in title", "dam": "keyword 'DAM' in obstacles"}
    shown = card_text(hub)
    assert "Held back by" in shown and "Several ERP instances (IT)" in shown and "No digital asset management (IT)" in shown
    assert "Change obstacles" in shown  # the card's menu offers the change


def test_the_proposer_changes_the_links_from_the_card_and_others_are_refused(hub):
    initiative = propose(hub, user_id="U0CMO", title="Customer 360", problem="Fix the ERP.", obstacles="")
    assert set(links(hub, initiative.id)) == {"erp"}

    # Someone who is neither proposer, sponsor, hub staff nor admin: refused at the menu...
    before = len(hub.emulator.responses)
    assert menu(hub, "U0HR1", initiative.id).status == 200
    assert hub.emulator.views == []
    [refusal] = hub.emulator.responses[before:]
    assert "only the proposer, the sponsor, hub staff or admins" in refusal.json["text"]
    # ...and at the form, should they submit one anyway.
    refused = choose(hub, "U0HR1", initiative.id, ["workflow"])
    assert refused.json["response_action"] == "errors"
    assert "only the proposer" in refused.json["errors"][Block.OBSTACLE_LINKS.value]
    assert set(links(hub, initiative.id)) == {"erp"}

    # The proposer opens the form: the links of now are chosen already.
    assert menu(hub, "U0CMO", initiative.id).status == 200
    [opened] = hub.emulator.views
    element = opened.view["blocks"][1]["element"]
    assert [option["value"] for option in element["initial_options"]] == ["erp"]
    assert [option["value"] for option in element["options"]] == ["erp", "dam", "workflow"]

    saved = choose(hub, "U0CMO", initiative.id, ["workflow", "dam"])
    assert saved.status == 200 and not saved.body_text.strip()
    assert links(hub, initiative.id) == {"dam": "chosen on the hub card", "workflow": "chosen on the hub card"}
    shown = card_text(hub)  # redrawn in place
    assert "No workflow tool (IT)" in shown and "Several ERP instances" not in shown

    # Hub staff may too; the same choice again changes nothing.
    assert choose(hub, "U0CDO", initiative.id, ["dam"]).status == 200
    assert choose(hub, "U0CDO", initiative.id, ["dam"]).status == 200
    assert set(links(hub, initiative.id)) == {"dam"}


def test_an_obstacle_no_longer_configured_or_hostile_is_refused_in_the_form(hub):
    initiative = propose(hub, title="Customer 360", problem="", obstacles="ERP")
    for key in ("legacy", "<!here>", "erp\u202e"):
        answer = choose(hub, "U0CMO", initiative.id, [key])
        assert answer.json["response_action"] == "errors"
        problem = answer.json["errors"][Block.OBSTACLE_LINKS.value]
        assert "no longer configured" in problem and key not in problem
    assert set(links(hub, initiative.id)) == {"erp"}
    missing = choose(hub, "U0CDO", 4242, ["dam"])
    assert "no initiative #4242" in missing.json["errors"][Block.OBSTACLE_LINKS.value]


def test_cdo_obstacles_ranks_by_open_initiatives_blocked(hub):
    first = propose(hub, title="ERP and DAM", problem="", obstacles="ERP, DAM", journey="customer")
    propose(hub, title="Payroll in the ERP", problem="", obstacles="", journey="employee", functions=["hr", "it"])
    done = propose(hub, title="DAM pilot", problem="", obstacles="DAM")
    propose(hub, title="<!channel> ERP <https://evil.example|click>", problem="", obstacles="")
    with hub.runtime.sessions.begin() as session:
        session.execute(update(Initiative).where(Initiative.id == done.id).values(status="done"))

    before = len(hub.emulator.responses)
    acked = hub.command("obstacles", user_id="U0HR1")
    assert acked.status == 200 and not acked.body_text.strip()  # counted after the answer
    [answer] = hub.emulator.responses[before:]
    shown = json.dumps(answer.json, ensure_ascii=False)
    assert answer.json["response_type"] == "ephemeral"
    assert shown.index("Several ERP instances") < shown.index("No digital asset management")
    assert "blocks 3 open initiatives · customer, employee journeys, since 2030-03-14" in shown
    assert "blocks 1 open initiative · customer journey" in shown
    assert "Blocking nothing now: No workflow tool" in shown
    assert "<!channel>" not in shown and "evil.example" not in shown
    assert first.id  # linked at proposal


def test_report_obstacles_json_has_the_contract_fields(hub, tmp_path):
    first = propose(hub, title="ERP clean-up", problem="", obstacles="")
    second = propose(hub, title="Another ERP", problem="", obstacles="", journey="employee", functions=["hr", "it"])
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    env = {"DATABASE_URL": hub.settings.database_url, "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "report", "obstacles", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert [row["key"] for row in rows] == ["erp", "dam", "workflow"]
    erp = rows[0]
    assert set(erp) == {"key", "name", "owner", "initiatives", "journeys", "since"}
    assert erp == {
        "key": "erp",
        "name": "Several ERP instances",
        "owner": "it",
        "initiatives": [first.id, second.id],
        "journeys": ["customer", "employee"],
        "since": NOW.isoformat(),
    }
    assert rows[1]["initiatives"] == [] and rows[1]["since"] is None
    table = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "report", "obstacles"], capture_output=True, text=True, env=env, timeout=60
    )
    assert table.returncode == 0, table.stderr
    header, _rule, line, *_ = table.stdout.splitlines()
    assert header.split() == ["key", "name", "owner", "initiatives", "journeys", "since"]
    assert line.split()[:5] == ["erp", "Several", "ERP", "instances", "it"] and " 2 " in line


def test_the_digest_says_what_holds_the_journeys_back(hub):
    propose(hub, title="ERP clean-up", problem="", obstacles="and a workflow tool")
    propose(hub, title="Another ERP", problem="", obstacles="")
    with hub.runtime.sessions() as session:
        digest = digests.build(session, hub.settings, NOW)
    shown = json.dumps(digest_message(digest, hub.settings)[1], ensure_ascii=False)
    assert "*What holds the journeys back*" in shown
    assert shown.index("Several ERP instances* (IT): blocks 2 open initiatives") < shown.index("No workflow tool* (IT): blocks 1")
    assert "No digital asset management" not in shown  # blocks nothing: not in the digest


def test_the_owner_functions_leads_see_their_obstacles_on_the_home_tab(hub):
    propose(hub, title="ERP clean-up", problem="", obstacles="")
    for user, expected in (("U0CIO", True), ("U0CMO", False)):
        event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home", "event_ts": f"{NOW.timestamp():.6f}"}
        assert hub.send("event", event=event).status == 200
        shown = json.dumps(hub.emulator.home(user)["blocks"], ensure_ascii=False)
        assert ("Obstacles IT can clear" in shown) is expected, user
        assert ("Several ERP instances* (IT): blocks 1 open initiative" in shown) is expected, user


def test_an_unknown_owner_is_refused_with_its_key():
    with pytest.raises(Exception, match=r"obstacles\.erp\.owner: unknown function 'finance'"):
        parse(CONFIG.replace(OBSTACLES.strip(), OBSTACLES.strip().replace('owner = "it"', 'owner = "finance"', 1)), source="c.toml", env={})


def test_obstacles_are_optional(migrated_url):
    assert dict(demo_settings(migrated_url, text=CONFIG.replace(OBSTACLES.strip(), "")).obstacles) == {}


def test_with_a_private_hub_channel_cdo_obstacles_counts_what_the_person_may_see(hub):
    hub.emulator.workspace.channels["C0HUB"].is_private = True
    propose(hub, user_id="U0CMO", title="Customer 360 on the ERP", problem="", obstacles="", functions=["marketing", "it"])
    propose(hub, user_id="U0CHRO", title="Payroll on the ERP", problem="", obstacles="", functions=["hr", "it"])

    def told(user: str) -> str:
        before = len(hub.emulator.responses)
        assert hub.command("obstacles", user_id=user).status == 200
        [answer] = hub.emulator.responses[before:]
        return json.dumps(answer.json, ensure_ascii=False)

    marketing = told("U0MKT1")  # in #marketing, not in the hub channel
    assert "blocks 1 open initiative" in marketing and "only the initiatives you may see are counted" in marketing
    executive = told("U0CEO")
    assert "blocks 2 open initiatives" in executive and "only the initiatives you may see" not in executive
