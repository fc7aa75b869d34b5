"""Shared fixtures: real databases (a SQLite file, a fresh Postgres database) and the hub
running over real HTTP against the local Slack emulator.

The schema is migrated once per session into a template of each kind; `migrated_url`,
`migrated_sqlite_url` and `migrated_postgres_url` are copies of it (on Postgres, a copy an
earlier test used is emptied and renamed rather than made again: see TemplateCopies). `database_url`,
`sqlite_url` and `postgres_url` stay empty, for tests of migrations and of empty databases.

Postgres tests skip with a reason when no server answers, unless CDO_HUB_REQUIRE_POSTGRES=1
(as in CI), where a missing server is a failure instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import queue
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.util import LRUCache

from bot.db import upgrade
from bot.models import Base

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator
    from bot.sandbox.harness import LocalHub

POSTGRES_SERVER = os.environ.get("CDO_HUB_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("CDO_HUB_REQUIRE_POSTGRES") == "1"


def _postgres_problem() -> str | None:
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        engine = create_engine(POSTGRES_SERVER, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # the reason goes into the skip message
        return f"no PostgreSQL server answers at {POSTGRES_SERVER}: {str(error).splitlines()[0]}"
    return None


# Many tests wait rather than compute (a served hub starting, a Slack call timing out, a child
# process importing the hub): two workers more than cores keep the cores busy meanwhile. Measured
# on 2 cores, three runs each: 123-129 s with two workers, 110-117 s with four.
EXTRA_WORKERS = 2


class SharedStatements:
    """One cache of compiled SQL for every engine of a test process. SQLAlchemy keeps compiled
    statements per engine, keyed by the engine's dialect object, and the tests make an engine
    per database, hundreds of them, each of which compiled the hub's statements anew (four
    scenario files in one process, three runs each taken in turns: 17-23 s of CPU with this
    cache, 26-34 s without; the whole suite, four runs each in turns: 121-150 s with it,
    150-173 s without). Here a dialect is known by what makes its SQL differ,
    so a new engine finds what an earlier one compiled, as a long-running hub finds what its
    own first requests compiled. The engines of the tests differ only in how they connect
    (connect_args, isolation level, pool), none of which changes the SQL. Bounded, as each
    engine's own cache is: statements naming a test's own database are never used again."""

    def __init__(self, size: int = 5000) -> None:
        self._compiled: LRUCache[tuple, object] = LRUCache(size)

    @staticmethod
    def _key(key: tuple) -> tuple:
        dialect = key[0]
        labels = dialect.label_length or dialect.max_identifier_length
        return (type(dialect), dialect.server_version_info, dialect.paramstyle, labels, *key[1:])

    def get(self, key: tuple, default: object = None) -> object:
        return self._compiled.get(self._key(key), default)

    def __setitem__(self, key: tuple, compiled: object) -> None:
        self._compiled[self._key(key)] = compiled


SHARED_STATEMENTS = SharedStatements()


@event.listens_for(Engine, "engine_connect")
def _share_statements(connection: Connection) -> None:
    connection.execution_options(compiled_cache=SHARED_STATEMENTS)


# The ORM compiles the INSERTs and UPDATEs of a flush into a cache of each mapper's own.
for _mapper in Base.registry.mappers:
    _mapper.__dict__["_compiled_cache"] = SHARED_STATEMENTS


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS") or config.option.numprocesses == "logical":
        return None  # xdist's own answer
    usable = getattr(os, "sched_getaffinity", None)  # the cores this process may use, where known
    return (len(usable(0)) if usable else os.cpu_count() or 1) + EXTRA_WORKERS


@pytest.fixture(scope="session")
def postgres_server() -> str:
    problem = _postgres_problem()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(f"CDO_HUB_REQUIRE_POSTGRES=1 but {problem}")
        pytest.skip(problem)
    return POSTGRES_SERVER


@pytest.fixture(scope="session")
def postgres_admin(postgres_server: str) -> Iterator[Engine]:
    engine = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@contextlib.contextmanager
def _postgres_database(admin: Engine, prefix: str, template: str = "template1") -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_template(postgres_admin: Engine) -> Iterator[str]:
    """The schema migrated once per session; tests get copies. Postgres copies a template only
    while nobody is connected to it, so connections to it are closed for good once migrated."""
    with _postgres_database(postgres_admin, "cdo_hub_template") as url:
        upgrade(url)  # alembic's engine holds no pooled connection (NullPool)
        name = make_url(url).database
        with postgres_admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
        yield str(name)


# What a copy's schema is made of: compared before a used copy is emptied for the next test, so
# that a test which changed the schema (or the database's settings) never hands the change on.
SCHEMA = """
    SELECT 'column', table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
      FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT 'constraint', conrelid::regclass || ' ' || pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT 'trigger', tgname FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT 'function', proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL SELECT 'revision', version_num FROM alembic_version
    UNION ALL SELECT 'setting', array_to_string(setconfig, ',') FROM pg_db_role_setting
      WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY 1, 2
    """


# A used copy emptied in one statement: its rows deleted (foreign keys not checked on the way)
# and its sequences restarted.
EMPTY = """
DO $$
DECLARE name text;
BEGIN
    PERFORM set_config('session_replication_role', 'replica', true);
    FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
        EXECUTE format('DELETE FROM %I', name);
    END LOOP;
    FOR name IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
        EXECUTE format('ALTER SEQUENCE %I RESTART', name);
    END LOOP;
END
$$
"""


class TemplateCopies:
    """Copies of the template for tests. A copy costs the server about half a second, emptying a
    used one about 20 ms: a used copy whose schema is still the template's is emptied (`EMPTY`),
    renamed and handed to the next test; one that a test changed is dropped. One worker thread
    does this, and makes a new copy when none is left, while tests run. A copy is read and
    emptied over one psycopg connection of its own (an engine each time would cost the test
    process more than the emptying costs the server)."""

    def __init__(self, admin: Engine, template: str) -> None:
        self._admin, self._template = admin, template
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postgres-copies")
        self._schema: list[tuple[str, str]] | None = None
        self._ready: queue.Queue[Future[str]] = queue.Queue()
        self._ready.put(self._worker.submit(self._create))

    def _execute(self, statement: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(statement))

    def _url(self, name: str) -> str:
        return self._admin.url.set(database=name).render_as_string(hide_password=False)

    def _connect(self, name: str):  # a psycopg connection to the copy NAME, in a transaction
        import psycopg  # the postgres extra: only where Postgres tests run

        url = self._admin.url
        return psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password, dbname=name)

    def _create(self) -> str:
        name = f"cdo_hub_test_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        if self._schema is None:
            with self._connect(name) as connection:
                self._schema = self._read_schema(connection)
        return name

    @staticmethod
    def _read_schema(connection) -> list[tuple[str, str]]:
        return [(kind, str(what)) for kind, what in connection.execute(SCHEMA)]

    def _empty(self, name: str) -> str:
        """The used copy NAME, emptied; or a new copy when a test changed NAME's schema or left
        it in a state that cannot be emptied."""
        try:
            return self._try_to_empty(name)
        except Exception:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return self._create()

    def _try_to_empty(self, name: str) -> str:
        self._execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        with self._connect(name) as connection:  # committed as it closes
            same = self._read_schema(connection) == self._schema
            if same:
                connection.execute(EMPTY)
        if not same:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return self._create()
        # A new name, so that nothing the hub keeps per database URL in this process (such as
        # when it last pruned) carries over to the next test.
        renamed = f"cdo_hub_test_{uuid.uuid4().hex[:12]}"
        self._execute(f'ALTER DATABASE "{name}" RENAME TO "{renamed}"')
        return renamed

    def take(self) -> str:
        ready = self._ready.get_nowait() if not self._ready.empty() else self._worker.submit(self._create)
        return self._url(ready.result())

    def give_back(self, url: str) -> None:
        self._ready.put(self._worker.submit(self._empty, str(make_url(url).database)))

    def close(self) -> None:
        try:
            while not self._ready.empty():
                self._execute(f'DROP DATABASE IF EXISTS "{self._ready.get_nowait().result()}" WITH (FORCE)')
        finally:
            self._worker.shutdown(wait=True)


@pytest.fixture(scope="session")
def postgres_copies(postgres_admin: Engine, postgres_template: str) -> Iterator[TemplateCopies]:
    copies = TemplateCopies(postgres_admin, postgres_template)
    yield copies
    copies.close()


@pytest.fixture
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    """A brand-new, empty database on the server, dropped afterwards."""
    with _postgres_database(postgres_admin, "cdo_hub_test") as url:
        yield url


@pytest.fixture
def migrated_postgres_url(postgres_copies: TemplateCopies) -> Iterator[str]:
    """A copy of the migrated template, new or emptied (TemplateCopies): no migration."""
    url = postgres_copies.take()
    yield url
    postgres_copies.give_back(url)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cdo-hub.db'}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cdo-hub.db"
    upgrade(f"sqlite:///{path}")  # in rollback-journal mode and closed: the file is the whole database
    return path


@pytest.fixture
def migrated_sqlite_url(tmp_path, sqlite_template: Path) -> str:
    shutil.copyfile(sqlite_template, tmp_path / "cdo-hub.db")
    return f"sqlite:///{tmp_path / 'cdo-hub.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """An empty database of each kind, for tests of migrations themselves."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrated_url(request) -> str:
    """A database of each kind at the head revision, copied from the session's template."""
    return request.getfixturevalue(f"migrated_{request.param}_url")


@pytest.fixture
def retry_waits(monkeypatch) -> list[float]:
    """The pauses slack_sdk's retry handlers take before retrying a 429 or a 5xx, recorded
    instead of slept: the client retries just as often, and a test may check it paused as told."""
    from slack_sdk.http_retry import builtin_handlers, handler

    waits: list[float] = []
    recorder = SimpleNamespace(sleep=waits.append)  # `time` is used for nothing else there
    monkeypatch.setattr(handler, "time", recorder)
    monkeypatch.setattr(builtin_handlers, "time", recorder)
    return waits


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    from bot.sandbox.emulator import Emulator

    with Emulator() as running:
        yield running


@pytest.fixture
def hub(migrated_url: str, emulator) -> Iterator[LocalHub]:
    """The hub over real HTTP against the emulator, on each kind of database."""
    from bot.sandbox.harness import LocalHub, demo_settings

    with LocalHub(demo_settings(migrated_url), emulator, migrate=False) as running:
        yield running
        assert not running.listener_errors, f"listener errors: {running.listener_errors!r}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request, emulator):
    """A hub whose time the test sets (tests/nudge_world.py). Claims, locks and rounds run on
    each database; rules of time and content on SQLite alone (`sqlite_only`), to keep the
    suite quick."""
    from tests.nudge_world import World

    running = World(request.getfixturevalue(f"migrated_{request.param}_url"), emulator)
    yield running
    running.close()
