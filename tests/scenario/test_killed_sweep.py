"""`cdo-hub nudge` killed with SIGKILL in the middle of a sweep, then run again: every nudge
owed goes out once."""

from __future__ import annotations

import signal
import subprocess
import sys

from bot.sandbox.harness import DEMO_CONFIG
from tests.nudge_world import paris
from tests.test_cli import clean_env, run_cli

SWEEP_AT = "2026-03-09T11:00"  # a Monday in working hours, a week after the proposal


def nudge_command(world, tmp_path) -> tuple[list[str], dict[str, str]]:
    env = clean_env(DATABASE_URL=world.url, SLACK_BOT_TOKEN=world.emulator.bot_token, SLACK_API_URL=world.emulator.base_url)
    return [sys.executable, "-m", "bot", "--config", str(DEMO_CONFIG), "nudge", "--at", SWEEP_AT], env


def slack_and_database(env: dict[str, str]) -> dict[str, str]:
    return {key: env[key] for key in ("DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_API_URL")}


def test_a_sweep_killed_while_posting_a_nudge_sends_it_once_when_run_again(world, tmp_path):
    initiative = world.propose(paris(2, 10))
    thread_ts = world.thread_of(initiative)[1]
    held = world.emulator.hold("chat.postMessage", before=True, when=lambda args: args.get("thread_ts") == thread_ts)
    command, env = nudge_command(world, tmp_path)
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert held.reached.wait(60), "the sweep never tried to post the nudge"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        held.release.set()
        if process.poll() is None:
            process.kill()
    assert world.pair_nudges(initiative) == []  # Slack never had it
    [row] = world.nudge_rows()
    assert row.status == "claimed"  # claimed by the killed sweep, still owed

    again = run_cli(tmp_path, *command[3:], **slack_and_database(env))
    assert again.returncode == 0, again.stderr
    assert len(world.pair_nudges(initiative)) == 1
    assert [row.status for row in world.nudge_rows()] == ["sent"]
    once_more = run_cli(tmp_path, *command[3:], **slack_and_database(env))
    assert once_more.returncode == 0 and len(world.pair_nudges(initiative)) == 1
