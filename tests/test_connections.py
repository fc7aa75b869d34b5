"""What every connection the hub opens is set to (bot/db.py make_engine), on each database,
for as long as the connection lives: through rolled-back transactions and the pool."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, text

from bot import db
from bot.db import make_engine


def settings_of(url: str) -> list[dict[str, str]]:
    """The settings seen by two connections at once, after a rolled-back transaction each."""
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    asked = ("PRAGMA foreign_keys", "PRAGMA journal_mode") if sqlite else ("SHOW jit",)
    try:
        with engine.connect() as first, engine.connect() as second:
            seen = []
            for connection in (first, second):
                connection.execute(text("SELECT 1"))
                connection.rollback()
                seen.append({statement: str(connection.execute(text(statement)).scalar()) for statement in asked})
        with engine.connect() as again:  # from the pool
            seen.append({statement: str(again.execute(text(statement)).scalar()) for statement in asked})
        return seen
    finally:
        engine.dispose()


def test_each_connection_has_the_hubs_settings(database_url):
    seen = settings_of(database_url)
    if database_url.startswith("sqlite"):
        assert seen == [{"PRAGMA foreign_keys": "1", "PRAGMA journal_mode": "wal"}] * 3
    else:
        assert seen == [{"SHOW jit": "off"}] * 3  # compiling the hub's reads cost more than it saved


def test_a_postgres_connection_idle_in_the_pool_is_checked_before_use_and_replaced_if_dropped(postgres_url, postgres_admin, monkeypatch):
    """One the server dropped while it sat in the pool is replaced, not failed on; one back in
    use within `CHECK_AFTER_IDLE` is not checked (no round trip), so it fails once if the
    server dropped it meanwhile, and the pool is renewed for the next use."""
    engine = make_engine(postgres_url)
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(connection) or ping(connection))

    def backend() -> int:
        with engine.connect() as connection:
            return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()

    def drop(pid: int) -> None:
        with postgres_admin.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True

    monkeypatch.setattr(db, "CHECK_AFTER_IDLE", 60.0)  # however slow the machine, these come back in time
    try:
        first = backend()
        assert [backend() for _ in range(5)] == [first] * 5 and pings == []  # back in use at once: not checked
        drop(first)
        with pytest.raises(exc.DBAPIError) as failed:
            backend()
        assert failed.value.connection_invalidated
        renewed = backend()
        assert renewed != first

        monkeypatch.setattr(db, "CHECK_AFTER_IDLE", 0.0)  # as if it had sat in the pool for a while
        drop(renewed)
        replaced = backend()
        assert replaced not in (first, renewed) and len(pings) == 1
        with db.reading(engine) as connection:  # after a check, the connection still takes autocommit
            assert connection.execute(text("SHOW transaction_isolation")).scalar() and len(pings) == 2
            assert connection.connection.dbapi_connection.autocommit is True
    finally:
        engine.dispose()
