"""Several sweeps at once on one database — threads with their own engines, and three
`cdo-hub nudge` processes — send each message once."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from bot.app.sweep import SweepReport, run_sweep
from bot.sandbox.harness import DEMO_CONFIG
from tests.nudge_world import World, paris

PAIRS = 12


@pytest.fixture
def world(migrated_url, emulator):
    running = World(migrated_url, emulator)
    yield running
    running.close()


def at_once(world: World, count: int = 3) -> list[SweepReport]:
    """`count` sweeps, each on its own engine (as separate processes are), released together."""
    hubs = [world.another_process() for _ in range(count)]
    start = threading.Barrier(count)
    reports: list[SweepReport] = []
    errors: list[BaseException] = []

    def sweep(hub):
        try:
            start.wait()
            reports.append(run_sweep(hub))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=sweep, args=(hub,)) for hub in hubs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for hub in hubs:
        hub.close()
    assert not errors, errors
    return reports


def sent_keys(reports: list[SweepReport]) -> Counter:
    return Counter(line.delivery.key for report in reports for line in report.lines if line.status == "sent")


def nudge_ids_in(message) -> list[int]:
    return [int(n) for n in re.findall(r'\\"nudge\\":(\d+)', json.dumps(message.blocks))]


def test_three_sweeps_at_once_send_each_message_once(world):
    ids = [world.propose(paris(2, 10), title=f"Initiative {n}") for n in range(PAIRS)]

    world.clock.set(paris(9, 10))
    first = at_once(world)
    keys = sent_keys(first)
    assert len(keys) == PAIRS and set(keys.values()) == {1}
    assert all(len(world.pair_nudges(i)) == 1 for i in ids)

    world.clock.set(paris(16, 10))
    second = at_once(world)
    keys = sent_keys(second)
    assert len(keys) == PAIRS and set(keys.values()) == {1}
    escalations = world.escalations("U0CEO")
    assert 1 <= len(escalations) <= 3  # batched: at most one DM per sweep
    mentioned = Counter(n for message in escalations for n in nudge_ids_in(message))
    assert len(mentioned) == PAIRS and set(mentioned.values()) == {3}  # each pair once, in one DM (3 buttons)

    assert all(row.status == "sent" for row in world.nudge_rows())
    assert len(world.nudge_rows()) == 2 * PAIRS


def test_three_sweeps_at_once_batch_each_pair_once_in_its_thread(world):
    ids = [world.propose(paris(2, 10), functions=("marketing", "it", "hr"), title=f"Three functions {n}") for n in range(6)]
    world.clock.set(paris(9, 10))
    keys = sent_keys(at_once(world))
    assert len(keys) == 3 * len(ids) and set(keys.values()) == {1}
    for initiative in ids:
        messages = world.pair_nudges(initiative)
        mentioned = Counter(n for message in messages for n in nudge_ids_in(message))
        assert len(mentioned) == 3 and set(mentioned.values()) == {3}  # each pair once, with its three buttons
    assert all(row.status == "sent" for row in world.nudge_rows())


@pytest.mark.postgres
def test_three_cli_processes_at_once_send_each_message_once(migrated_postgres_url, emulator, tmp_path: Path):
    world = World(migrated_postgres_url, emulator)
    try:
        ids = [world.propose(paris(2, 10), title=f"Initiative {n}") for n in range(6)]
        config = tmp_path / "config.toml"
        config.write_text(DEMO_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
        env = {
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": migrated_postgres_url,
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_API_URL": emulator.base_url,
        }
        command = [sys.executable, "-m", "bot", "--config", str(config), "nudge", "--at", "2026-03-09T10:00:00+01:00", "--format", "json"]
        processes = [
            subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)
        ]
        outputs = [process.communicate(timeout=120) for process in processes]
        assert [process.returncode for process in processes] == [0, 0, 0], [err for _, err in outputs]
        objects = [item for out, _ in outputs for item in json.loads(out)]
        sent = [item for item in objects if item["status"] == "sent"]
        assert sorted(item["initiative_id"] for item in sent) == sorted(ids)
        for item in sent:
            assert item["level"] == 1 and item["functions"] == ["it", "marketing"]
            assert set(item["recipients"]) == {"U0CMO", "U0CIO"} and item["channel"] == "C0HUB"
        assert all(len(world.pair_nudges(i)) == 1 for i in ids)
    finally:
        world.close()
