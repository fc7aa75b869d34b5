"""What every connection the hub opens is set to (bot/db.py make_engine), on each database,
for as long as the connection lives: through rolled-back transactions and the pool."""

from __future__ import annotations

from sqlalchemy import text

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
