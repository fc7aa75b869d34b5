"""The organisation benchmarks/ measures: what `world.populate` puts in the database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from benchmarks import world
from bot.config import parse
from bot.core import rules
from bot.db import make_engine, make_sessionmaker, upgrade
from bot.models import Commitment, Initiative, InitiativeFunction, Nudge, Outbox, Pair


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
