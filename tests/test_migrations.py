"""Alembic migrations against real SQLite and Postgres databases: they build exactly the models'
schema, go down and up again, and keep times aware UTC."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import StatementError

from bot import db
from bot.db import MIGRATIONS_DIR, downgrade, make_engine, make_sessionmaker, schema_status, transaction, upgrade
from bot.models import Base, Initiative

OUR_TABLES = {
    "initiatives",
    "initiative_functions",
    "pairs",
    "commitments",
    "commitment_changes",
    "activities",
    "nudges",
    "processed_events",
    "slack_users",
    "outbox",
    "introductions",
    "initiative_obstacles",
}


@pytest.fixture
def engine(database_url: str):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()  # before the Postgres fixture drops the database


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def differences(engine: Engine, **options) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, **options})
        return compare_metadata(context, Base.metadata)


def head() -> str:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


# --- up, down, up ----------------------------------------------------------------------------


def test_models_declare_the_expected_tables():
    assert set(Base.metadata.tables) == OUR_TABLES


def test_upgrade_downgrade_upgrade(database_url, engine):
    upgrade(database_url)
    assert tables(engine) == OUR_TABLES | {"alembic_version"}

    downgrade(database_url, "base")
    engine.dispose()  # forget cached reflection and pooled connections
    assert tables(engine) - {"alembic_version"} == set()

    upgrade(database_url)
    engine.dispose()
    assert tables(engine) == OUR_TABLES | {"alembic_version"}
    assert schema_status(engine).up_to_date


def test_upgrade_twice_is_harmless(database_url, engine):
    upgrade(database_url)
    upgrade(database_url)
    assert schema_status(engine).current == head()


def test_migrations_match_the_models_exactly(database_url, engine):
    upgrade(database_url)
    assert differences(engine) == []


def test_a_job_table_left_by_earlier_versions_is_left_alone(database_url, engine):
    # Earlier versions let APScheduler create `apscheduler_jobs` here. Nothing reads it any more,
    # and no migration drops a table that Alembic never created.
    upgrade(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT)"))
    upgrade(database_url)
    engine.dispose()
    assert "apscheduler_jobs" in tables(engine)
    assert schema_status(engine).up_to_date


def test_pairs_have_the_index_of_the_nudge_sweep(database_url, engine):
    upgrade(database_url)
    indexes = {index["name"]: index["column_names"] for index in inspect(engine).get_indexes("pairs")}
    assert indexes.get("ix_pairs_next_check_at") == ["next_check_at"]

    # And the sweep's query can use it.
    query = "SELECT id FROM pairs WHERE next_check_at <= :now"
    now = datetime(2026, 1, 1)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = connection.execute(text("EXPLAIN QUERY PLAN " + query), {"now": now}).all()
        else:
            connection.execute(text("SET enable_seqscan = off"))  # tiny tables: force the choice
            plan = connection.execute(text("EXPLAIN " + query), {"now": now}).all()
    assert "ix_pairs_next_check_at" in " ".join(str(row) for row in plan)


# --- schema_status -----------------------------------------------------------------------------


def test_schema_status_of_an_empty_database(engine):
    status = schema_status(engine)
    assert status.empty
    assert status.current is None
    assert status.head == head() and status.head
    assert not status.up_to_date


def test_schema_status_up_to_date(database_url, engine):
    upgrade(database_url)
    status = schema_status(engine)
    assert not status.empty
    assert status.current == status.head == head()
    assert status.up_to_date


def test_schema_status_outdated(database_url, engine):
    upgrade(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000old'"))
    status = schema_status(engine)
    assert status.current == "0000old"
    assert not status.up_to_date
    assert not status.empty


def test_schema_status_with_someone_elses_table_is_not_empty(engine):
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE unrelated (id INTEGER PRIMARY KEY)"))
    status = schema_status(engine)
    assert not status.empty
    assert status.current is None
    assert not status.up_to_date


def test_schema_status_after_downgrade_is_empty_again(database_url, engine):
    upgrade(database_url)
    downgrade(database_url, "base")
    engine.dispose()
    status = schema_status(engine)
    assert status.empty and status.current is None and not status.up_to_date


def test_where_the_schema_stands_is_read_without_importing_alembic(database_url):
    upgrade(database_url)
    script = (
        "import sys; from bot.db import make_engine, schema_status; "
        f"status = schema_status(make_engine({database_url!r})); "
        "print(status.current, status.head, status.up_to_date, 'alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [head(), head(), "True", "False"]


NEXT = """revision{annotation} = {revision}
down_revision{annotation} = {down}
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
"""


def migrations_with(tmp_path, monkeypatch, scripts: list[dict]) -> Path:
    """A copy of the migrations with these scripts after them ("HEAD": the newest now), read by
    bot.db. A script may give its file's name, a text before it (`before`, e.g. a coding line)
    and its encoding (`encoding`, with "utf-8-sig" for a byte order mark)."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for n, script in enumerate(scripts):
        fields = {"annotation": "", **script, "down": script["down"].replace("HEAD", repr(head()))}
        text = script.get("before", "") + NEXT.format(**fields) + script.get("after", "")
        name = script.get("file", f"{9000 + n}_next.py")
        (copy / "versions" / name).write_text(text, encoding=script.get("encoding", "utf-8"))
    monkeypatch.setattr(db, "MIGRATIONS_DIR", copy)
    return copy


def alembic_says(copy: Path) -> str:
    """Alembic's head of these migrations, or the name of what it raised."""
    try:
        return ScriptDirectory(str(copy)).get_current_head() or ""
    except Exception as error:
        return type(error).__name__


def bot_says() -> str:
    try:
        return db.schema_head()
    except Exception as error:
        return type(error).__name__


LATIN = "# -*- coding: latin-1 -*-\n# Écrit à la main\n"


@pytest.mark.filterwarnings("ignore:Revision .* is not present:UserWarning")  # Alembic, of the unknown revision
@pytest.mark.parametrize(
    "scripts, plainly",
    [
        ([dict(revision="'0099'", down="HEAD")], True),
        ([dict(annotation=": str", revision="'0099'", down="HEAD"), dict(revision="'0100'", down="'0099'")], True),  # newer templates
        ([dict(revision="'0100'", down="'0099'", file="0000_first_by_name.py"), dict(revision="'0099'", down="HEAD")], True),
        ([dict(revision="'0099'", down="HEAD", encoding="utf-8-sig")], True),  # a byte order mark
        ([dict(revision="'0099'", down="HEAD", before=LATIN, encoding="latin-1")], True),
        ([dict(revision="'00' + '99'", down="HEAD")], False),  # not a literal: Alembic reads it
        ([dict(revision="'0099'", down="HEAD"), dict(revision="'0100'", down="('0099', HEAD)")], False),  # a merge
        ([dict(revision="'0099'", down="HEAD", after="if True:\n    revision = '0101'\n")], False),  # said twice
        ([dict(revision="'0099'", down="HEAD"), dict(revision="'0099'", down="'0099'")], False),  # one revision twice
        ([dict(revision="'0099'", down="'0100'"), dict(revision="'0100'", down="'0099'")], False),  # a loop beside the line
        ([dict(revision="'0099'", down="'0042'")], False),  # after a revision nobody has
        ([dict(revision="'0099'", down="None")], False),  # a second first revision: two heads
    ],
    ids=["plain", "annotated", "head-first-by-name", "bom", "latin-1", "computed", "merge", "twice", "same", "loop", "unknown", "two"],
)
def test_the_head_read_from_the_scripts_is_alembics_head(tmp_path, monkeypatch, scripts, plainly):
    copy = migrations_with(tmp_path, monkeypatch, scripts)
    alembics = alembic_says(copy)
    if plainly:  # read without Alembic
        monkeypatch.setattr(db, "_alembic_head", lambda: pytest.fail("Alembic was asked"))
        assert alembics not in ("", head())
    assert bot_says() == alembics


def test_files_alembic_does_not_read_are_not_read(tmp_path, monkeypatch):
    copy = migrations_with(tmp_path, monkeypatch, [dict(revision="'0099'", down="HEAD")])
    (copy / "versions" / ".#0100_being_edited.py").symlink_to("nobody@somewhere.123:456")  # an editor's lock: dangling
    monkeypatch.setattr(db, "_alembic_head", lambda: pytest.fail("Alembic was asked"))
    assert db.schema_head() == "0099" == alembic_says(copy)


def test_several_revisions_recorded_are_named_and_not_up_to_date(database_url, engine):
    upgrade(database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0000old')"))
    status = schema_status(engine)
    assert status.current == f"0000old, {head()}"
    assert not status.up_to_date and not status.empty


# --- time ------------------------------------------------------------------------------------


def make_initiative(created_at: datetime) -> Initiative:
    return Initiative(
        title="Onboarding portal",
        journey="employee",
        proposer="U0CHRO",
        created_at=created_at,
        updated_at=created_at,
    )


def test_aware_datetimes_round_trip_as_aware_utc(database_url, engine):
    upgrade(database_url)
    sessions = make_sessionmaker(engine)
    # 09:30:15.123456 in New York (EST, UTC-5) is 14:30:15.123456 UTC.
    local = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=ZoneInfo("America/New_York"))
    expected = datetime(2026, 3, 2, 14, 30, 15, 123456, tzinfo=UTC)
    with transaction(sessions) as session:
        session.add(make_initiative(local))

    with sessions() as session:
        loaded = session.scalars(select(Initiative)).one()
    assert loaded.created_at == expected
    assert loaded.created_at.tzinfo == UTC
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert (loaded.created_at.hour, loaded.created_at.microsecond) == (14, 123456)

    # Stored as UTC, not as the writer's wall-clock time.
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT created_at FROM initiatives")).scalar_one()
    if engine.dialect.name == "sqlite":
        assert str(raw).startswith("2026-03-02 14:30:15.123456")
    else:
        assert raw == expected

    # Comparisons in SQL work against aware values.
    with sessions() as session:
        found = session.scalars(select(Initiative).where(Initiative.created_at < expected + timedelta(seconds=1))).all()
        missed = session.scalars(select(Initiative).where(Initiative.created_at < expected)).all()
    assert len(found) == 1 and missed == []


def test_naive_datetimes_are_refused(database_url, engine):
    upgrade(database_url)
    sessions = make_sessionmaker(engine)
    with pytest.raises((ValueError, StatementError), match="naive datetime"), transaction(sessions) as session:
        session.add(make_initiative(datetime(2026, 3, 2, 9, 30)))
    with sessions() as session:
        assert session.scalars(select(Initiative)).all() == []


def test_migrations_directory_is_the_packaged_one():
    # `pip install -e .` ships migrations as a package: bot.db must find its env.py there.
    assert (Path(MIGRATIONS_DIR) / "env.py").is_file()
    assert any((Path(MIGRATIONS_DIR) / "versions").glob("*.py"))


# --- 0003: promises and requests ---------------------------------------------------------------


def test_promises_made_before_requests_keep_their_owner_and_history(database_url, engine):
    """0003 rebuilds `commitments` on SQLite (an owner may now be empty): nothing is lost,
    not even the history that cascades from it; going back turns requests into cancelled rows."""
    upgrade(database_url, "0002")
    at = "2026-03-02 10:00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO initiatives (id, title, problem, journey, obstacles, status, proposer, created_at, updated_at) "
                f"VALUES (1, 't', '', 'customer', '', 'active', 'U0CMO', '{at}', '{at}')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO commitments (id, initiative_id, from_function, to_function, owner, what, due, status, created_at, updated_at) "
                f"VALUES (1, 1, 'it', 'marketing', 'U0CIO', 'API', '2026-04-01', 'open', '{at}', '{at}')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO commitment_changes (id, commitment_id, actor, action, to_status, at) "
                f"VALUES (1, 1, 'U0CIO', 'created', 'open', '{at}')"
            )
        )
    upgrade(database_url)
    engine.dispose()
    with engine.begin() as connection:
        kept = connection.execute(text("SELECT owner, requested_by, proposed_due FROM commitments")).one()
        assert tuple(kept) == ("U0CIO", None, None)
        assert connection.execute(text("SELECT count(*) FROM commitment_changes")).scalar_one() == 1
        connection.execute(
            text(
                "INSERT INTO commitments (id, initiative_id, from_function, to_function, owner, requested_by, what, due, status, "
                "created_at, updated_at) VALUES (2, 1, 'it', 'marketing', NULL, 'U0MKT1', 'ERP', '2026-04-01', 'requested', "
                f"'{at}', '{at}')"
            )
        )
    downgrade(database_url, "0002")
    engine.dispose()
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, owner, status FROM commitments ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [(1, "U0CIO", "open"), (2, "U0MKT1", "cancelled")]
    assert differences(engine) != []  # the models are ahead of 0002 again


def test_introductions_go_up_and_down_with_0005(database_url, engine):
    upgrade(database_url, "0004")
    assert "introductions" not in tables(engine)
    upgrade(database_url, "0005_introductions")
    engine.dispose()
    assert "introductions" in tables(engine)
    indexes = {index["name"] for index in inspect(engine).get_indexes("introductions")}
    assert {"ix_introductions_functions", "ix_introductions_claimed_at"} <= indexes
    downgrade(database_url, "0004")
    engine.dispose()
    assert "introductions" not in tables(engine)
    assert "initiatives" in tables(engine)


# --- 0006: obstacles ---------------------------------------------------------------------------


def test_obstacle_links_come_and_go_with_their_migration(database_url, engine):
    """0006 adds the obstacle ledger next to what is there; going back removes only the ledger,
    and an initiative removed takes its links with it."""
    upgrade(database_url, "0004")
    at = "2026-03-02 10:00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO initiatives (id, title, problem, journey, obstacles, status, proposer, created_at, updated_at) "
                f"VALUES (1, 't', '', 'customer', 'ERP', 'active', 'U0CMO', '{at}', '{at}')"
            )
        )
    upgrade(database_url)
    engine.dispose()
    assert "initiative_obstacles" in tables(engine)
    indexes = {index["name"]: index["column_names"] for index in inspect(engine).get_indexes("initiative_obstacles")}
    assert indexes.get("ix_initiative_obstacles_key") == ["obstacle_key", "initiative_id"]
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("PRAGMA foreign_keys = ON"))
        connection.execute(
            text(
                "INSERT INTO initiative_obstacles (initiative_id, obstacle_key, reason, created_at) "
                f"VALUES (1, 'erp', 'keyword ''ERP'' in obstacles', '{at}')"
            )
        )
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"), connection.begin_nested():
            connection.execute(
                text(
                    f"INSERT INTO initiative_obstacles (initiative_id, obstacle_key, reason, created_at) VALUES (1, 'erp', 'again', '{at}')"
                )
            )
        assert connection.execute(text("SELECT count(*) FROM initiative_obstacles")).scalar_one() == 1
        connection.execute(text("DELETE FROM initiatives WHERE id = 1"))
        assert connection.execute(text("SELECT count(*) FROM initiative_obstacles")).scalar_one() == 0

    downgrade(database_url, "0004")
    engine.dispose()
    assert "initiative_obstacles" not in tables(engine)
    assert "initiatives" in tables(engine)
    assert schema_status(engine).current == "0004"
    upgrade(database_url)
    engine.dispose()
    assert differences(engine) == []
