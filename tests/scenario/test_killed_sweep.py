"""`cdo-hub nudge` killed with SIGKILL in the middle of a post, then run again once its lease
is over: every nudge owed goes out once, whether Slack had the post or not."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from bot import cli
from bot.core import nudge_claims
from bot.sandbox.harness import DEMO_CONFIG
from tests.nudge_world import paris
from tests.test_cli import clean_env

SWEEP_AT = paris(9, 11)  # a Monday in working hours, a week after the proposal
AFTER_THE_LEASE = SWEEP_AT + nudge_claims.LEASE


def nudge_command(world, at) -> tuple[list[str], dict[str, str]]:
    env = clean_env(DATABASE_URL=world.url, SLACK_BOT_TOKEN=world.emulator.bot_token, SLACK_API_URL=world.emulator.base_url)
    return [sys.executable, "-m", "bot", "--config", str(DEMO_CONFIG), "nudge", "--at", at.isoformat()], env


def run_again(world, monkeypatch, at) -> None:
    """`cdo-hub nudge --at AT` again: the killed sweep's own entry point, in this process (the
    killed one was a process of its own; starting Python again proves nothing more)."""
    _command, env = nudge_command(world, at)
    for name in ("DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_API_URL"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.delenv("CDO_HUB_CONFIG", raising=False)
    assert cli.main(["--config", str(DEMO_CONFIG), "nudge", "--at", at.isoformat()]) == 0


def killed_while_posting(world, tmp_path, thread_ts: str, *, slack_took_it: bool) -> None:
    """Run a sweep and kill it while its post waits: before Slack carried it out, or after."""
    held = world.emulator.hold("chat.postMessage", before=not slack_took_it, when=lambda args: args.get("thread_ts") == thread_ts)
    command, env = nudge_command(world, SWEEP_AT)
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert held.reached.wait(60), "the sweep never tried to post the nudge"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        held.release.set()
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("slack_took_it", [False, True], ids=["before Slack had it", "after Slack took it"])
def test_a_sweep_killed_while_posting_a_nudge_sends_it_once_when_run_again(world, tmp_path, monkeypatch, slack_took_it):
    initiative = world.propose(paris(2, 10))
    thread_ts = world.thread_of(initiative)[1]
    killed_while_posting(world, tmp_path, thread_ts, slack_took_it=slack_took_it)
    assert len(world.pair_nudges(initiative)) == (1 if slack_took_it else 0)
    [row] = world.nudge_rows()
    assert (row.status, row.error, row.not_before) == ("claimed", nudge_claims.IN_FLIGHT, AFTER_THE_LEASE)  # leased, never settled

    run_again(world, monkeypatch, SWEEP_AT)  # within the lease: the dead sender's post may yet come
    assert [row.status for row in world.nudge_rows()] == ["claimed"]

    run_again(world, monkeypatch, AFTER_THE_LEASE)
    [message] = world.pair_nudges(initiative)
    [row] = world.nudge_rows()
    assert (row.status, row.ts) == ("sent", message.ts)
    posts = [call for call in world.emulator.calls_to("chat.postMessage") if call.args.get("thread_ts") == thread_ts]
    assert [call.status for call in posts] == [200]  # carried out once (a call held before is never carried out)
    assert world.emulator.calls_to("conversations.replies")  # looked for in Slack before posting again

    run_again(world, monkeypatch, AFTER_THE_LEASE + nudge_claims.LEASE)
    assert len(world.pair_nudges(initiative)) == 1
