"""`cdo-hub check-config` with a token checks the file's channels and users in Slack."""

import os
import subprocess
import sys

import pytest

from bot.sandbox.emulator import Emulator
from bot.sandbox.harness import DEMO_CONFIG


@pytest.fixture
def slack():
    with Emulator() as emulator:
        yield emulator


def check(tmp_path, slack, text: str):
    config = tmp_path / "config.toml"
    config.write_text(text)
    env = {**os.environ, "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.base_url}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "check-config"], capture_output=True, text=True, env=env, timeout=60
    )


def test_the_demo_workspace_passes(tmp_path, slack):
    run = check(tmp_path, slack, DEMO_CONFIG.read_text())
    assert run.returncode == 0, run.stdout + run.stderr
    assert "every channel and user exists" in run.stdout


def test_missing_private_and_archived_channels_and_unknown_users_are_named(tmp_path, slack):
    text = DEMO_CONFIG.read_text().replace('"#hr"', '"#secret-project"').replace('leads = ["U0CIO"]', 'leads = ["U0NOBODY"]')
    text += '\n[functions.intranet]\nchannel = "#old-intranet"\nleads = ["U0GONE"]\n'
    run = check(tmp_path, slack, text)
    assert run.returncode == 1
    problems = [line for line in run.stdout.splitlines() if line.startswith("problem:")]
    assert any("functions.hr.channel" in p and "#secret-project" in p for p in problems)
    assert any("functions.intranet.channel" in p and "archived" in p for p in problems)
    assert any("functions.it.leads" in p and "U0NOBODY" in p for p in problems)
    assert any("functions.intranet.leads" in p and "deactivated" in p for p in problems)
    assert len(problems) == 4


def test_a_revoked_token_is_one_line(tmp_path, slack):
    slack.revoke_token()
    run = check(tmp_path, slack, DEMO_CONFIG.read_text())
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "token" in run.stderr.strip().splitlines()[-1]
