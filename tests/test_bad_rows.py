"""One bad row never stops a sweep, a digest, a report or the Home tab: the row is logged with
its ID and skipped, and everything else goes on, on SQLite and Postgres.

The rows are written straight into the database, past the forms that would refuse them:
- a commitment due 9999-12-31: not bad any more, the calendar takes it as "never";
- a pair last active in the last hour of 9999 (UTC), which is no moment at all in Paris, the
  hub's time zone: assessing it fails, every time;
- a claimed nudge whose payload is not what was claimed: sending it fails, every time.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Executable, create_engine, select, text, update
from sqlalchemy.engine import make_url

from bot.app import follow
from bot.app.home import publish_home
from bot.core import nudge_claims, nudges
from bot.db import transaction
from bot.models import Commitment, Nudge, Pair
from tests.nudge_world import PARIS, World, paris, sent

END_OF_TIME = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)  # 10000-01-01 in Paris: past Python's dates
EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request, emulator):
    url = request.getfixturevalue(f"migrated_{request.param}_url")
    if request.param == "postgres":
        # psycopg reads times in the session's zone. In UTC, a moment at the end of time loads
        # whatever the server's default is, and only the hub's own calendar fails on it.
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(f"ALTER DATABASE \"{make_url(url).database}\" SET timezone TO 'UTC'"))
        engine.dispose()
    running = World(url, emulator)
    yield running
    running.close()


def write(world: World, statement: Executable) -> None:
    with transaction(world.hub.sessions) as session:
        session.execute(statement)


def report(world: World, tmp_path: Path, subject: str) -> tuple[list[dict], str]:
    """`cdo-hub report SUBJECT --format json` on the world's database: its rows, and its log."""
    (tmp_path / "config.toml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("SLACK_") and key != "CDO_HUB_CONFIG"}
    env["DATABASE_URL"] = world.url
    done = subprocess.run(
        [sys.executable, "-m", "bot", "report", subject, "--format", "json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def row_of(rows, functions: tuple[str, str]):
    [row] = [row for row in rows if set(row.functions) == set(functions)]  # in the configuration's order
    return row


def test_a_due_date_at_the_end_of_time_stops_nothing(world, tmp_path):
    far = world.propose(title="Due at the end of time")  # marketing × it
    near = world.propose(functions=("hr", "it"), title="Onboarding in one place")
    commitment_id = world.commit(far, paris(2, 11), date(2026, 4, 1))
    write(world, update(Commitment).where(Commitment.id == commitment_id).values(due=date.max))

    # A week later both pairs are silent: both are nudged, and the far commitment is not late.
    swept = world.sweep(paris(9, 9, 5))
    assert sorted(sent(swept)) == sorted(nudge_claims.pair_key(world.pair(i).id, 0, 1) for i in (far, near))
    [nudge] = world.pair_nudges(far)
    assert "9999" not in json.dumps(nudge.blocks)

    digest = world.digest(paris(9, 9, 30))
    assert digest.install_error is None and len(world.digests("U0CEO")) == 1

    pairs = follow.pairs(world.hub)  # /cdo pairs
    assert (row_of(pairs.rows, ("it", "marketing")).open_commitments, row_of(pairs.rows, ("it", "marketing")).state) == (1, "stalled")

    rows, log = report(world, tmp_path, "pairs")
    assert "Traceback" not in log
    assert [row["open_commitments"] for row in rows if set(row["functions"]) == {"it", "marketing"}] == [1]
    rows, _ = report(world, tmp_path, "commitments")
    assert [(row["id"], row["due"], row["overdue"]) for row in rows] == [(commitment_id, "9999-12-31", False)]

    publish_home(world.hub, "U0CIO")  # the owner: owed, due later
    assert "9999-12-31" in json.dumps(world.emulator.home("U0CIO"))
    publish_home(world.hub, "U0CEO")  # an executive: the matrix
    assert world.emulator.home("U0CEO") is not None


def test_a_pair_that_cannot_be_assessed_is_logged_and_skipped(world, tmp_path, caplog):
    bad = world.propose(title="Stamped at the end of time")  # marketing × it
    good = world.propose(functions=("hr", "it"), title="Onboarding in one place")
    bad_pair = world.pair(bad)
    write(world, update(Pair).where(Pair.id == bad_pair.id).values(last_activity_a=END_OF_TIME))
    logged = f"pair {bad_pair.id} of initiative {bad}"

    with caplog.at_level(logging.ERROR):
        swept = world.sweep(paris(9, 9, 5))
    assert sent(swept) == [nudge_claims.pair_key(world.pair(good).id, 0, 1)]
    assert logged in caplog.text
    skipped = world.pair(bad)
    assert (skipped.nudge_level, skipped.next_check_at) == (0, paris(9, 9, 5) + nudges.RETRY_FAILED)
    assert world.pair(good).nudge_level == 1

    caplog.clear()
    with caplog.at_level(logging.ERROR):
        world.digest(paris(9, 9, 30))
        pairs = follow.pairs(world.hub)
        publish_home(world.hub, "U0CEO")
    assert len(world.digests("U0CEO")) == 1
    assert row_of(pairs.rows, ("hr", "it")).state == "stalled"
    assert row_of(pairs.rows, ("it", "marketing")).initiatives == 1  # counted, without a state
    assert world.emulator.home("U0CEO") is not None
    assert logged in caplog.text

    rows, _log = report(world, tmp_path, "pairs")
    assert len(rows) == 3  # the matrix is one query: the row that breaks Python dates breaks nothing there


class Unreachable:
    """Where `user` is cannot be told: deciding a pair they lead raises, after its first writes."""

    def __init__(self, user: str | None, error: type[Exception] = LookupError) -> None:
        self.user, self.error = user, error

    def zone(self, user_id: str) -> ZoneInfo:
        if user_id == self.user:
            raise self.error(f"no time zone for {user_id}")
        return PARIS

    def reachable(self, user_id: str) -> bool:
        return True


def states(world: World) -> dict[tuple[str, str], tuple[str, int, datetime | None]]:
    with world.hub.sessions() as session:
        return {pair.functions: (pair.state, pair.nudge_level, pair.next_check_at) for pair in session.scalars(select(Pair))}


def test_a_pair_that_fails_midway_is_rolled_back_alone(world):
    world.propose()  # marketing × it
    world.propose(functions=("hr", "it"))
    before = states(world)
    now = paris(9, 9, 5)
    with transaction(world.hub.sessions) as session:
        # Deciding hr × it marks it stalled and writes that, then fails on the HR lead.
        batch = nudges.plan_batch(session, world.hub.settings, now, Unreachable("U0CHRO"))
        assert [delivery.functions for delivery in batch.deliveries] == [("it", "marketing")]
        assert nudge_claims.claim(session, batch.deliveries, now) == batch.deliveries
    after = states(world)
    assert after[("hr", "it")] == ("active", 0, now + nudges.RETRY_FAILED)  # its own writes undone
    assert after[("it", "marketing")][:2] == ("stalled", 1)
    assert before[("hr", "it")][0] == "active"
    with world.hub.sessions() as session:
        assert session.scalars(select(Nudge.key)).all() == [batch.deliveries[0].key]


def test_a_batch_with_savepoints_still_commits_as_one(world):
    # pysqlite would commit at the first savepoint's release: a rolled-back batch leaves nothing.
    world.propose()
    world.propose(functions=("hr", "it"))
    before = states(world)
    with world.hub.sessions() as session:
        batch = nudges.plan_batch(session, world.hub.settings, paris(9, 9, 5), Unreachable(None))
        assert batch.checked == 2 and len(batch.deliveries) == 2
        session.rollback()
    assert states(world) == before


def test_an_error_that_is_nobodys_row_stops_the_batch(world):
    world.propose()
    with world.hub.sessions() as session, pytest.raises(PermissionError):
        nudges.plan_batch(session, world.hub.settings, paris(9, 9, 5), Unreachable("U0CMO", PermissionError), fatal=(PermissionError,))


def test_a_nudge_that_cannot_be_sent_is_logged_and_given_up_after_a_few_tries(world, caplog):
    bad = world.propose(title="Its nudge is unreadable")
    good = world.propose(functions=("hr", "it"), title="Onboarding in one place")
    world.sweep(paris(9, 7, 0))  # stalled since midnight: claimed, to be sent at nine
    with world.hub.sessions() as session:
        [broken] = session.scalars(select(Nudge.id).where(Nudge.pair_id == world.pair(bad).id)).all()
    write(world, update(Nudge).where(Nudge.id == broken).values(payload=["not", "what", "was", "claimed"]))

    with caplog.at_level(logging.ERROR):
        swept = world.sweep(paris(9, 9, 5))
    assert sent(swept) == [nudge_claims.pair_key(world.pair(good).id, 0, 1)]
    assert [line.status for line in swept.lines if line.status != "sent"] == ["retry"]
    assert f"nudge {broken} could not be checked" in caplog.text
    waits = []
    for _ in range(nudge_claims.MAX_ATTEMPTS - 1):  # a sweep each time it is due again
        with world.hub.sessions() as session:
            retry_at = session.get(Nudge, broken).not_before
        waits.append(retry_at - world.clock.now())
        world.sweep(retry_at)
    assert waits == [nudge_claims.RETRY_AFTER * 2**n for n in range(nudge_claims.MAX_ATTEMPTS - 1)]  # 15 min, then doubling
    with world.hub.sessions() as session:
        given_up = session.get(Nudge, broken)
        assert (given_up.status, given_up.attempts) == ("failed", nudge_claims.MAX_ATTEMPTS)
        assert given_up.error.startswith("AttributeError")
    assert len(world.pair_nudges(good)) == 1 and world.pair_nudges(bad) == []
    assert sent(world.sweep(paris(10, 10, 0))) == []  # nothing left to try
