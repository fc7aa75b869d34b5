"""How long a nudge sweep takes over many initiatives of which few are due, and proof that it
reads only the due pairs (through the index on pairs.next_check_at).

    python benchmarks/sweep.py [--initiatives 5000] [--due 50] [--database URL]

Without --database a SQLite file in a temporary folder is used. Messages go to the local Slack
emulator. Figures are printed; nothing is asserted (the tests do that).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert, select, text

from bot.app.sweep import run_sweep
from bot.clock import FixedClock
from bot.db import upgrade
from bot.models import Initiative, InitiativeFunction, Pair
from bot.runtime import build_runtime
from bot.sandbox.emulator import Emulator
from bot.sandbox.harness import demo_settings

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 16, 10, 0, tzinfo=PARIS)  # a Monday, in working hours


def populate(hub, total: int, due: int) -> None:
    """`total` Marketing × IT initiatives; `due` of them silent for three weeks (their pairs due
    now), the others active yesterday (their next check a few days away, as a sweep leaves it)."""
    old, recent = NOW - timedelta(days=21), NOW - timedelta(days=1)
    with hub.engine.begin() as connection:
        initiatives = [
            dict(
                id=n,
                title=f"Initiative {n}",
                problem="",
                journey="customer",
                obstacles="",
                status="active",
                proposer="U0CMO",
                sponsor="U0CEO",
                hub_channel=None,
                hub_ts=None,
                created_at=old,
                updated_at=old,
            )
            for n in range(1, total + 1)
        ]
        connection.execute(insert(Initiative), initiatives)
        connection.execute(
            insert(InitiativeFunction),
            [
                dict(initiative_id=n, function_key=k, reason="chosen by the proposer", route_status="posted")
                for n in range(1, total + 1)
                for k in ("marketing", "it")
            ],
        )
        pairs = []
        for n in range(1, total + 1):
            silent = n <= due
            pairs.append(
                dict(
                    initiative_id=n,
                    function_a="it",
                    function_b="marketing",
                    state="active",
                    nudge_round=0,
                    nudge_level=0,
                    created_at=old,
                    last_activity_a=None if silent else recent,
                    last_activity_b=None if silent else recent,
                    last_joint_activity_at=None if silent else recent,
                    next_check_at=NOW - timedelta(minutes=5) if silent else NOW + timedelta(days=3),
                )
            )
        connection.execute(insert(Pair), pairs)
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))


def plan_of_due_query(hub) -> str:
    query = "SELECT id FROM pairs WHERE next_check_at <= :now ORDER BY next_check_at, id LIMIT 500"
    with hub.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = connection.execute(
                text("EXPLAIN QUERY PLAN " + query), {"now": NOW.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)}
            ).all()
            return " | ".join(str(row[-1]) for row in rows)
        rows = connection.execute(text("EXPLAIN " + query), {"now": NOW}).all()
        return " | ".join(row[0].strip() for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--initiatives", type=int, default=5000)
    parser.add_argument("--due", type=int, default=50)
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)
    with Emulator() as emulator:
        settings = demo_settings(url)
        settings = replace(settings, slack=replace(settings.slack, bot_token=emulator.bot_token, api_url=emulator.base_url))
        hub = build_runtime(settings, clock=FixedClock(NOW))
        started = time.perf_counter()
        populate(hub, args.initiatives, args.due)
        print(
            f"database: {hub.engine.dialect.name}; {args.initiatives} initiatives, {args.due} due, "
            f"built in {time.perf_counter() - started:.1f}s"
        )
        print(f"plan of the due query: {plan_of_due_query(hub)}")

        loaded = {"pairs": 0, "statements": 0}
        event.listen(Pair, "load", lambda *_: loaded.__setitem__("pairs", loaded["pairs"] + 1))
        event.listen(hub.engine, "after_cursor_execute", lambda *_: loaded.__setitem__("statements", loaded["statements"] + 1))
        for label in ("first sweep (due pairs nudged)", "second sweep (nothing due)"):
            loaded.update(pairs=0, statements=0)
            emulator.reset_records()
            started = time.perf_counter()
            report = run_sweep(hub)
            took = time.perf_counter() - started
            posts = len(emulator.calls_to("chat.postMessage"))
            print(
                f"{label}: {took * 1000:.0f} ms; pairs checked {report.checked}, pair rows loaded {loaded['pairs']}, "
                f"SQL statements {loaded['statements']}, messages posted {posts}"
            )
        with hub.sessions() as session:
            waiting = session.scalar(select(Pair.id).where(Pair.next_check_at <= NOW).limit(1))
        print(f"pairs still due after the sweep: {'none' if waiting is None else 'some'}")
        hub.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
