"""Shared fixtures: real databases (a SQLite file, a fresh Postgres database) and the hub
running over real HTTP against the local Slack emulator.

The schema is migrated once per session into a template of each kind; `migrated_url`,
`migrated_sqlite_url` and `migrated_postgres_url` are fresh copies of it. `database_url`,
`sqlite_url` and `postgres_url` stay empty, for tests of migrations and of empty databases.

Postgres tests skip with a reason when no server answers, unless CDO_HUB_REQUIRE_POSTGRES=1
(as in CI), where a missing server is a failure instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from bot.db import upgrade

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


class TemplateCopies:
    """Copies of the template for tests. One worker thread makes the next copy and drops used
    ones while a test runs, so that server work does not sit between tests."""

    def __init__(self, admin: Engine, template: str) -> None:
        self._admin, self._template = admin, template
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postgres-copies")
        self._drops: list[Future[None]] = []
        self._next = self._worker.submit(self._create)

    def _execute(self, statement: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(statement))

    def _create(self) -> str:
        name = f"cdo_hub_test_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return name

    def take(self) -> str:
        name = self._next.result()
        self._next = self._worker.submit(self._create)
        return self._admin.url.set(database=name).render_as_string(hide_password=False)

    def give_back(self, url: str) -> None:
        statement = f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'
        self._drops.append(self._worker.submit(self._execute, statement))

    def close(self) -> None:
        try:
            self._execute(f'DROP DATABASE IF EXISTS "{self._next.result()}"')
        finally:
            self._worker.shutdown(wait=True)
        for drop in self._drops:
            drop.result()  # a failed drop fails the session's end rather than going unseen


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
    """A fresh copy of the migrated template (CREATE DATABASE … TEMPLATE): no migration."""
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
