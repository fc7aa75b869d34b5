"""Speed and memory of the hub at organisation scale, side by side with a bare Bolt app.

    python benchmarks/run.py [--sizes 100,1000,10000] [--database sqlite|postgres|both] [--quick]

For each database and size: a fresh database is filled with that many initiatives (through
the core, as if proposed, routed, discussed and swept over a year), then the hub
(`cdo-hub serve --http --no-scheduler`) and the anchor (benchmarks/anchor.py: a Bolt app that
only acknowledges, on the same Starlette and uvicorn stack) run as two processes against the
local Slack emulator, and the same requests go to both. One table is printed: each figure of
the hub next to the anchor's (or its goal) and their ratio. Nothing is asserted: the machines
this runs on are shared, so only the ratios measured in one run mean something.

`--quick` measures 100 and 1,000 initiatives on SQLite with fewer requests (about a minute).
Postgres databases are created on the server of `--postgres-server` and dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from benchmarks import table, world
from benchmarks.measure import CONCURRENCY, FULL, QUICK, Plan, Stage
from bot.config import parse
from bot.db import make_engine, make_sessionmaker, upgrade
from bot.sandbox.emulator import Emulator

POSTGRES_SERVER = os.environ.get("CDO_HUB_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def database(kind: str, folder: Path, server: str) -> Iterator[str]:
    """A fresh, empty database: a SQLite file in `folder`, or a Postgres database dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'hub.db'}"
        return
    name = f"cdo_hub_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def stage(kind: str, size: int, plan: Plan, server: str, notes: list[str]) -> list[table.Row]:
    """Fill a fresh database with `size` initiatives, run the hub and the anchor on it, measure."""
    with tempfile.TemporaryDirectory(prefix="cdo-hub-bench-") as folder, database(kind, Path(folder), server) as url:
        upgrade(url)
        settings = parse(world.config_text(), source="benchmark", env={"DATABASE_URL": url})
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            population = world.populate(make_sessionmaker(engine), settings, size, datetime.now(UTC))
            if kind == "postgres":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("ANALYZE"))
            progress(f"{kind}, {size:,}: {population.summary()}; filled in {time.perf_counter() - started:.1f} s")
            notes.append(f"{kind}, {size:,}: {population.summary()}")
            workspace = world.workspace()
            world.seed(workspace, population.messages)
            started = time.perf_counter()
            with Emulator(workspace) as emulator, Stage(url, make_sessionmaker(engine), Path(folder), emulator, plan) as running:
                results = running.measure()
            steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in running.timings.items())
            progress(f"{kind}, {size:,}: measured in {time.perf_counter() - started:.1f} s ({steps})")
        finally:
            engine.dispose()
    sweep = results.sweep
    notes.append(
        f"{kind}, {size:,}: one sweep's {sweep.nudges:,} nudges make {sweep.messages:,} messages, {sweep.hub_channel:,} of them "
        f"in the hub channel: {sweep.hub_channel / 60:.0f} min at Slack's pace of one a second there"
    )
    calls = ", ".join(f"{method} ×{n}" for method, n in results.proposal_calls.most_common())
    notes.append(f"{kind}, {size:,}: Slack calls for one proposal: {calls}")
    clicks = CONCURRENCY + plan.requests // 2 * 2
    if clicks > results.pending_commitments:
        pending = results.pending_commitments
        notes.append(f"{kind}, {size:,}: {clicks} Done clicks on {pending} pending commitments: the rest clicked one again")
    return table.rows(results, size, kind)


def machine(databases: list[str], server: str) -> str:
    memory = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:"))
    parts = [
        f"{os.cpu_count()} CPUs",
        f"{int(memory.split()[1]) / 1024 / 1024:.0f} GB RAM",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if "postgres" in databases:
        engine = create_engine(server)
        with engine.connect() as connection:
            parts.append(f"PostgreSQL {connection.execute(text('SHOW server_version')).scalar()}")
        engine.dispose()
    return "machine: " + ", ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="numbers of initiatives, comma-separated (default 100,1000,10000; quick: 100,1000)")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), help="default both; quick: sqlite")
    parser.add_argument("--quick", action="store_true", help="small sizes, SQLite only, fewer requests: about a minute")
    parser.add_argument("--requests", type=int, help="requests of each kind to each server (default 200; quick: 100)")
    parser.add_argument("--postgres-server", default=POSTGRES_SERVER, help="where Postgres databases are created (default: %(default)s)")
    args = parser.parse_args()
    sizes = [int(size) for size in (args.sizes or ("100,1000" if args.quick else "100,1000,10000")).split(",")]
    chosen = args.database or ("sqlite" if args.quick else "both")
    databases = ["sqlite", "postgres"] if chosen == "both" else [chosen]
    plan = QUICK if args.quick else FULL
    if args.requests:
        plan = replace(plan, requests=max(args.requests, 2))

    started = time.perf_counter()
    rows: list[table.Row] = []
    notes: list[str] = []
    for kind in databases:
        for size in sizes:
            rows += stage(kind, size, plan, args.postgres_server, notes)
    print(machine(databases, args.postgres_server))
    print()
    print(table.render(rows))
    print()
    for note in notes:
        print(note)
    print(f"ratios: hub ÷ anchor, or hub ÷ goal; 'over' marks a figure that misses its goal. Took {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
