"""benchmarks/run.py: the organisation it fills, the table it builds, and one short run end to
end. No figure is checked against a goal here: timings on a shared machine prove nothing, so
the tests only check that every figure is measured and printed."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from benchmarks import table, world
from benchmarks.measure import Latency, Results, SweepMessages, Timing
from bot.config import parse
from bot.core import rules
from bot.db import make_engine, make_sessionmaker, upgrade
from bot.models import Commitment, Initiative, InitiativeFunction, Nudge, Outbox, Pair

ROOT = Path(__file__).resolve().parent.parent


def test_population_is_delivered_and_mixed(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    population = world.populate(make_sessionmaker(engine), parse(world.config_text(), env={"DATABASE_URL": url}), 60, now)
    with make_sessionmaker(engine)() as session:
        involved = Counter(session.scalars(select(InitiativeFunction.initiative_id)))
        assert population.initiatives == 60 and len(involved) == 60
        assert set(involved.values()) <= {3, 4, 5, 6} and len(set(involved.values())) > 1
        assert population.pairs == session.scalar(select(func.count()).select_from(Pair)) > 3 * 60
        # Delivered: nothing owed, every card, route and commitment message has its ts.
        assert session.scalar(select(func.count()).select_from(Outbox)) == 0
        assert session.scalar(select(func.count()).where(Initiative.hub_ts.is_(None))) == 0
        assert session.scalar(select(func.count()).where(InitiativeFunction.route_status != "posted")) == 0
        assert session.scalar(select(func.count()).where(Commitment.hub_ts.is_(None))) == 0
        # Some stalled and due now, some nudged already, some overdue; most not due at all.
        assert 0 < population.due_pairs < population.pairs / 2
        assert session.scalar(select(func.count()).where(Pair.state == "stalled")) > 0
        assert session.scalar(select(func.count()).select_from(Nudge)) > 0
        assert session.scalar(select(func.count()).where(rules.overdue(now.date()))) > 0
    engine.dispose()
    # The emulator gets every message the database points at.
    assert len(population.messages) == 60 + sum(involved.values()) + population.commitments


def results(**changes) -> Results:
    fields = dict(
        acks={kind: (Latency(0.012, 0.030), Latency(0.010, 0.020)) for kind in table.KINDS},
        pairs_answer=Timing(0.4),
        home_publish=Timing(0.5),
        commands={"digest": Timing(0.2), "report": Timing(0.3), "nudge": Timing(1.9)},
        proposal_calls=Counter({"chat.postMessage": 7}),
        rss=(100.0, 40.0),
        sweep=SweepMessages(nudges=900, messages=400, hub_channel=380),
    )
    return Results(**{**fields, **changes})


def test_table_rows_say_which_figures_miss_their_goal():
    rows = table.rows(results(), 1000, "sqlite")
    assert [row.what for row in rows] == table.labels()
    assert all(row.met for row in rows), [row.cells() for row in rows if not row.met]
    assert rows[0].cells() == ("ack p50 /cdo list (≤ 1.5× anchor)", "1,000", "sqlite", "12.0 ms", "10.0 ms", "1.20×")

    worse = results(
        acks={**results().acks, "Done click": (Latency(0.016, 0.030, failed=2), Latency(0.010, 0.020))},
        pairs_answer=Timing(3.01, "1 of 5: answered 404"),
        commands={"digest": Timing(0.2), "report": Timing(1.0), "nudge": Timing(1.9)},
        proposal_calls=Counter({"chat.postMessage": 7, "chat.getPermalink": 1}),
        rss=(121.0, 40.0),
        sweep=SweepMessages(nudges=10, messages=12, hub_channel=12),
    )
    missed = {row.what: row.cells() for row in table.rows(worse, 1000, "sqlite") if not row.met}
    assert set(missed) == {
        "ack p50 Done click (≤ 1.5× anchor)",  # 1.6× the anchor
        "ack p99 Done click (≤ 1.5× anchor)",  # 1.5× but two were not answered 200
        "/cdo pairs answer",
        "report pairs",  # the goal is under 1 s
        "Slack calls per proposal, 5 functions",
        "serve RSS (≤ 120 MB)",
        "messages one sweep sends, all due pairs",  # batching never makes more messages than nudges
    }
    assert missed["/cdo pairs answer"][3] == "3.01 s (1 of 5: answered 404)"
    assert missed["ack p99 Done click (≤ 1.5× anchor)"][3] == "30.0 ms (2 not 200)"
    assert missed["Slack calls per proposal, 5 functions"][3:] == ("8 calls", "goal ≤ 7 calls", "1.14× over")
    assert missed["messages one sweep sends, all due pairs"][3:] == ("12 messages", "10 nudges", "1.20× over")


def test_a_short_run_prints_every_row_of_the_table():
    command = [sys.executable, "benchmarks/run.py", "--quick", "--sizes", "100", "--requests", "2"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("|")]
    header, rule, *body = ([cell.strip() for cell in line.strip("|").split("|")] for line in lines)
    assert header == list(table.HEADER)
    assert [cells[0] for cells in body] == table.labels()
    for what, size, database, hub, reference, ratio in body:
        assert (size, database) == ("100", "sqlite"), what
        assert hub and reference and ratio.split()[0].endswith("×"), what
    assert "machine: " in done.stdout and "Slack calls for one proposal" in done.stdout
    assert "in the hub channel" in done.stdout
