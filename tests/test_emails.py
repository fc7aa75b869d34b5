"""People in the configuration by email: the emulator answers users.lookupByEmail as Slack
does, the hub resolves them once at start (the rest of it sees member IDs only), and
check-config names each address that matches nobody or a deactivated account, with its line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.app.emails import EmailBook, resolve
from bot.config import ConfigError, parse
from bot.db import make_engine
from bot.sandbox.harness import DEMO_CONFIG, LocalHub, demo_settings
from bot.slack.gateway import Gateway, make_client
from tests.scenario import steps

BY_EMAIL = (
    DEMO_CONFIG.read_text()
    .replace('leads = ["U0CMO"]', 'leads = ["Marc.Mkt@acme.example"]')
    .replace('executives = ["U0CEO"]', 'executives = ["nobody@acme.example", "U0CEO"]')
    .replace('leads = ["U0CHRO"]', 'leads = ["hugo.hr@acme.example", "former.employee@acme.example"]')
)


def lines_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_the_emulator_answers_lookup_by_email_like_slack(emulator):
    gateway = Gateway(make_client(emulator.bot_token, emulator.base_url))
    found = gateway.call("users.lookupByEmail", email="marc.mkt@acme.example")
    assert found.ok and found["user"]["id"] == "U0CMO" and found["user"]["profile"]["email"] == "marc.mkt@acme.example"
    missing = gateway.call("users.lookupByEmail", email="nobody@acme.example")
    assert not missing.ok and missing.error == "users_not_found"
    gone = gateway.call("users.lookupByEmail", email="former.employee@acme.example")
    assert gone.ok and gone["user"]["id"] == "U0GONE" and gone["user"]["deleted"] is True


def test_the_file_takes_ids_and_emails_and_refuses_anything_else():
    settings = parse(BY_EMAIL, env={})
    assert settings.functions["marketing"].leads == ("Marc.Mkt@acme.example",)
    assert settings.where("functions.marketing.leads") == f"config.toml:{lines_of(BY_EMAIL, 'Marc.Mkt@')}"
    with pytest.raises(ConfigError, match=r"config.toml:\d+: hub.staff: 'cdo at acme' must be a Slack user ID .* or an email"):
        parse(DEMO_CONFIG.read_text().replace('staff = ["U0CDO"]', 'staff = ["cdo at acme"]'), env={})


def test_each_address_is_asked_once_and_only_member_ids_remain(emulator):
    gateway = Gateway(make_client(emulator.bot_token, emulator.base_url))
    book = EmailBook(gateway)
    settings = resolve(parse(BY_EMAIL, env={}), book)
    assert settings.functions["marketing"].leads == ("U0CMO",)
    assert settings.hub.executives == ("U0CEO",)  # nobody@ matches nobody: left out
    assert settings.functions["hr"].leads == ("U0CHRO", "U0GONE")  # deactivated: kept by its ID, as if named so
    resolve(parse(BY_EMAIL, env={}), book)
    asked = [call for call in emulator.calls if call.method == "users.lookupByEmail"]
    assert len(asked) == 4  # the second resolution asked Slack nothing


def test_a_lead_given_by_email_is_routed_to_and_recognised(migrated_url, emulator):
    """On both databases: the hub built from a file naming the marketing lead by email treats
    that lead as one when they propose, and no email reaches the database."""
    settings = demo_settings(migrated_url, text=BY_EMAIL)
    with LocalHub(settings, emulator, migrate=False) as hub:
        assert hub.runtime.settings.functions["marketing"].leads == ("U0CMO",)
        initiative = steps.propose(hub, user_id="U0CMO", functions=["marketing", "it"], sponsor="U0CEO")
        assert {f.function_key for f in initiative.functions} == {"marketing", "it"}
        assert initiative.proposer == "U0CMO"
        assert not hub.listener_errors
    engine = make_engine(settings.database_url)  # the database alone: no hub, so no Slack to ask
    try:
        with engine.connect() as connection:
            dump = "\n".join(
                str(row)
                for table in ("initiatives", "commitments", "nudges")
                for row in connection.exec_driver_sql(f"SELECT * FROM {table}")
            )
        assert "@acme.example" not in dump
    finally:
        engine.dispose()


def test_check_config_names_unknown_and_deactivated_addresses_with_their_lines(tmp_path, emulator):
    config = tmp_path / "config.toml"
    config.write_text(BY_EMAIL)
    env = {**os.environ, "SLACK_BOT_TOKEN": emulator.bot_token, "SLACK_API_URL": emulator.base_url}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "check-config"], capture_output=True, text=True, env=env, timeout=60
    )
    assert run.returncode == 1, run.stdout + run.stderr
    problems = [line for line in run.stdout.splitlines() if line.startswith("problem:")]
    assert problems == [
        f"problem: {config}:{lines_of(BY_EMAIL, 'nobody@')}: hub.executives: email nobody@acme.example matches nobody in the workspace",
        f"problem: {config}:{lines_of(BY_EMAIL, 'former.employee@')}: functions.hr.leads: "
        "email former.employee@acme.example belongs to a deactivated account (U0GONE)",
    ]
