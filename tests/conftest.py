"""Shared fixtures: real databases (a SQLite file, a fresh Postgres database) and the hub
running over real HTTP against the local Slack emulator.

Postgres tests skip with a reason when no server answers, unless CDO_HUB_REQUIRE_POSTGRES=1
(as in CI), where a missing server is a failure instead.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

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


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A brand-new database on the server, dropped afterwards."""
    name = f"cdo_hub_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cdo-hub.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """An empty database of each kind."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def migrated_url(database_url: str) -> str:
    upgrade(database_url)
    return database_url


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

    url = request.getfixturevalue(f"{request.param}_url")
    upgrade(url)
    running = World(url, emulator)
    yield running
    running.close()
