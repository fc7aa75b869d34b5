"""Two replicas run the introductions pass at the same moment, on SQLite and Postgres: each
introduction is claimed and sent once, and nobody gets two in the week."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from bot.app.introduce import run_introductions
from bot.models import Introduction
from tests.nudge_world import World


def test_two_passes_at_once_introduce_each_pair_once(migrated_url, emulator):
    world = World(migrated_url, emulator)
    other = world.another_process()
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            reports = list(pool.map(run_introductions, [world.hub, other]))
        lines = [line for report in reports for line in report.lines]
        assert [(line.functions, line.status) for line in lines] == [(("hr", "it"), "sent")]
        with world.hub.sessions() as session:
            assert [row.key for row in session.scalars(select(Introduction))] == ["intro:hr:it:1"]
        groups = [c for c in emulator.workspace.channels.values() if c.is_mpim]
        assert [len(emulator.messages(c.id)) for c in groups] == [1]
        # And again, each process once more: nothing more this week.
        with ThreadPoolExecutor(max_workers=2) as pool:
            assert all(report.lines == [] for report in pool.map(run_introductions, [world.hub, other]))
    finally:
        other.close()
        world.close()
