"""The suite's one cache of compiled SQL (conftest.SharedStatements): an engine made for a new
database finds the statements, and the ORM's flush statements, that an earlier engine compiled."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, select
from sqlalchemy.engine.default import DefaultDialect

from bot.db import make_engine, make_sessionmaker
from bot.models import SlackUser

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def how_found(url: str) -> tuple[object, object]:
    """On a new engine: how a read and a flush's INSERT found their compiled statements."""
    engine = make_engine(url)
    flushed: list[object] = []

    def executed(_connection, _cursor, _statement, _parameters, context, _many) -> None:
        flushed.append(context.cache_hit)

    try:
        with engine.connect() as connection:
            read = connection.execute(select(SlackUser.tz).where(SlackUser.user_id == "U0IT1")).context.cache_hit
        with make_sessionmaker(engine)() as session:
            session.add(SlackUser(user_id="U0IT1", tz="Europe/Paris", fetched_at=NOW))
            event.listen(engine, "after_cursor_execute", executed)
            session.flush()
            event.remove(engine, "after_cursor_execute", executed)
            session.rollback()
    finally:
        engine.dispose()
    assert len(flushed) == 1
    return read, flushed[0]


def test_a_new_engine_finds_what_an_earlier_one_compiled(migrated_url):
    how_found(migrated_url)  # compiled here, unless a test of this process compiled them before
    assert how_found(migrated_url) == (DefaultDialect.CACHE_HIT, DefaultDialect.CACHE_HIT)
