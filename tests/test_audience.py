"""The audience rules of bot.core.audience: when text may move between channels."""

from __future__ import annotations

import pytest

from bot.core.audience import Barrier, ChannelFacts, barrier, may_copy

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
