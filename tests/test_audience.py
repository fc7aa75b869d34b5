"""The audience rules of bot.core.audience: when text may move between channels, and who sees
an initiative (its predicate and its query agree, on SQLite and Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest
from sqlalchemy import select

from bot.core import initiatives
from bot.core.audience import Barrier, ChannelFacts, Viewer, barrier, may_copy, viewer
from bot.db import make_engine, make_sessionmaker, transaction
from bot.models import Initiative
from bot.sandbox.harness import demo_settings

PUBLIC = ChannelFacts("C0PUB", private=False, external=False)
OTHER_PUBLIC = ChannelFacts("C0PUB2", private=False, external=False)
SHARED = ChannelFacts("C0EXT", private=False, external=True)
IT = ChannelFacts("C0IT", private=True, external=False, members=frozenset({"U1", "U2", "U3"}))
SMALL = ChannelFacts("C0SMALL", private=True, external=False, members=frozenset({"U1", "U2"}))
WIDER = ChannelFacts("C0WIDE", private=True, external=False, members=frozenset({"U1", "U9"}))
UNKNOWN_MEMBERS = ChannelFacts("C0UNK", private=True, external=False, members=None)


@pytest.mark.parametrize(
    "source, target, expected",
    [
        (PUBLIC, OTHER_PUBLIC, None),
        (PUBLIC, SMALL, None),  # into fewer readers, all of whom could read the public channel
        (IT, PUBLIC, Barrier.PRIVATE),
        (IT, SMALL, None),  # every reader of the target reads the source
        (IT, WIDER, Barrier.PRIVATE),  # U9 does not read #it
        (IT, UNKNOWN_MEMBERS, Barrier.PRIVATE),
        (UNKNOWN_MEMBERS, SMALL, Barrier.PRIVATE),
        (SHARED, PUBLIC, Barrier.SHARED_SOURCE),
        (PUBLIC, SHARED, Barrier.SHARED_TARGET),
        (IT, SHARED, Barrier.SHARED_TARGET),
        (None, PUBLIC, Barrier.UNKNOWN),
        (PUBLIC, None, Barrier.UNKNOWN),
        (IT, IT, None),  # within one channel nothing moves
        (SHARED, SHARED, None),
    ],
)
def test_text_never_moves_into_a_wider_audience(source, target, expected):
    assert barrier(source, target) == expected
    assert may_copy(source, target) is (expected is None)


# --- who sees an initiative ---------------------------------------------------------------------


def settings():
    return demo_settings("sqlite://")


def test_with_a_public_hub_channel_everyone_sees_everything():
    public_hub = ChannelFacts("C0HUB", private=False, external=False)
    assert viewer("U0OUT", settings(), public_hub, ()).everything


@pytest.mark.parametrize(
    "user, members, functions, everything",
    [
        ("U0OUT", {"U0CMO"}, (), False),
        ("U0CMO", {"U0CMO"}, (), True),  # a member of the private hub channel
        ("U0CEO", set(), (), True),  # an executive
        ("U0CDO", set(), (), True),  # hub staff and admin
        ("U0IT1", set(), ("it",), False),
    ],
)
def test_with_a_private_hub_channel_its_members_and_the_hub_people_see_everything(user, members, functions, everything):
    private_hub = ChannelFacts("C0HUB", private=True, external=False, members=frozenset(members))
    assert viewer(user, settings(), private_hub, functions).everything is everything
    assert viewer(user, settings(), None, functions).everything is (everything and user not in members)  # unknown: private, nobody in it


def test_the_predicate_and_the_query_agree(migrated_url):
    hub_settings = settings()
    engine = make_engine(migrated_url)
    sessions = make_sessionmaker(engine)
    now = datetime.now(UTC)
    shapes = [("U0CMO", None, ("marketing", "it")), ("U0HR1", "U0CEO", ("hr", "it")), ("U0CIO", "U0HR1", ("marketing", "hr"))]
    try:
        with transaction(sessions) as session:
            for proposer, sponsor, functions in shapes:
                proposal = initiatives.Proposal(proposer=proposer, title="t", functions=functions, sponsor=sponsor)
                initiatives.create(session, proposal, hub_settings, now)
        people = ("U0CMO", "U0HR1", "U0CEO", "U0OUT")
        function_sets = ((), ("it",), ("hr",), ("marketing", "hr"))
        with sessions() as session:
            everything = initiatives.everything(session)
            for user, functions in product(people, function_sets):
                seen = Viewer(user, False, functions)
                by_predicate = {i.id for i in everything if seen.may_see(i)}
                by_query = set(session.scalars(select(Initiative.id).where(seen.condition())))
                assert by_predicate == by_query, (user, functions)
    finally:
        engine.dispose()
