"""A sweep plans a batch of due pairs in a constant number of SQL statements, whatever the batch
holds, on both databases: the pairs' new states go out in one statement, not pair by pair, and
not through the slow path that decides pairs one at a time after a failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from bot.app.people import ZoneBook
from bot.core import nudge_claims, nudges
from bot.db import transaction
from bot.models import Nudge, Pair
from tests.nudge_world import World, paris


@contextmanager
def counted(world: World) -> Iterator[list[str]]:
    statements: list[str] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(world.hub.engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        event.remove(world.hub.engine, "before_cursor_execute", keep)


def plan(world: World, at) -> tuple[nudges.Batch, list[str]]:
    world.clock.set(at)
    people = ZoneBook(world.hub, at)
    with world.hub.sessions() as session:
        people.warm(nudges.people_to_know(session, world.hub.settings, at))
    with transaction(world.hub.sessions) as session, counted(world) as statements:
        batch = nudges.plan_batch(session, world.hub.settings, at, people)
    return batch, statements


def stalled_world(world: World, count: int) -> None:
    for n in range(count):
        world.propose(paris(2, 10) + timedelta(minutes=n), title=f"Initiative {n}")


def test_a_batch_takes_as_many_statements_for_three_pairs_as_for_twelve(world, emulator):
    stalled_world(world, 3)
    small, few = plan(world, paris(9, 11))
    assert small.checked == 3 and len(small.deliveries) == 3

    stalled_world(world, 12)  # the first three were nudged and wait for a day: twelve are due
    large, many = plan(world, paris(9, 11, 5))
    assert large.checked == 12 and len(large.deliveries) == 12
    assert many == few
    assert many.count("UPDATE") == 1  # the pairs' decisions
    with world.hub.sessions() as session:  # and they were written
        states = set(session.scalars(select(Pair.state)))
        assert states == {"stalled"}
        assert session.scalar(select(Pair.nudge_level).where(Pair.id == large.deliveries[-1].pair_id)) == 1


def test_ended_rounds_cancel_what_their_pairs_had_waiting_in_one_statement(world, emulator):
    stalled_world(world, 4)
    night, _ = plan(world, paris(10, 22))  # Tuesday night: the nudges wait for the morning
    assert len(night.deliveries) == 4
    with transaction(world.hub.sessions) as session:
        nudge_claims.claim(session, night.deliveries, paris(10, 22))
    for initiative in range(1, 5):  # everyone meets early in the morning
        world.act(initiative, "U0CMO", paris(11, 7))
        world.act(initiative, "U0CIO", paris(11, 7))
    morning, statements = plan(world, paris(11, 8))
    assert morning.checked == 4 and morning.deliveries == []
    with world.hub.sessions() as session:
        assert set(session.scalars(select(Nudge.status))) == {"cancelled"}
        assert set(session.scalars(select(Pair.nudge_round))) == {1}
    assert statements.count("UPDATE") == 2
