"""Propose and route: check a proposal, store it with what its delivery owes (the hub card,
one routed post per function, the proposer's confirmation), and send that through the outbox
(bot/app/outbox.py), which also tells the proposer and the admins of a route that failed.
"""

from __future__ import annotations

from bot.app import outbox
from bot.app.hub import Hub
from bot.app.people import local_today
from bot.core import initiatives
from bot.core.initiatives import Proposal, Refusal, SponsorCheck
from bot.db import transaction


def sponsor_check(hub: Hub, sponsor: str | None) -> SponsorCheck | None:
    if not sponsor:
        return None
    info = hub.directory.user(sponsor)
    if info is None:
        return SponsorCheck(exists=False)
    return SponsorCheck(is_bot=info.is_bot, deleted=info.deleted)


def check(hub: Hub, proposal: Proposal) -> Refusal:
    """What is wrong with the proposal, phrased for the form (empty when it can be stored)."""
    return initiatives.validate(proposal, hub.settings, local_today(hub, proposal.proposer), sponsor_check(hub, proposal.sponsor))


def store(hub: Hub, proposal: Proposal) -> int:
    """Store the initiative and, in the same transaction, everything its delivery owes."""
    with transaction(hub.sessions) as session:
        initiative = initiatives.create(session, proposal, hub.settings, hub.clock.now())
        outbox.owe_delivery(session, initiative, hub.clock.now())
        return initiative.id


def route(hub: Hub, initiative_id: int, *, source: tuple[str, str] | None = None) -> outbox.DrainReport:
    """After the proposal is stored: link the message it came from, then deliver it."""
    if source is not None:
        link = hub.gateway.permalink(*source)
        with transaction(hub.sessions) as session:
            initiatives.set_source_link(session, initiative_id, link)
    return deliver(hub, initiative_id)


def deliver(hub: Hub, initiative_id: int) -> outbox.DrainReport:
    """Send the hub card, the routed posts and the confirmation of a stored initiative (what
    is already out is not sent again; what fails now is retried by the scheduler)."""
    with transaction(hub.sessions) as session:
        initiative = initiatives.get(session, initiative_id)
        assert initiative is not None, initiative_id
        keys = outbox.owe_delivery(session, initiative, hub.clock.now())
    return outbox.drain(hub, keys=keys)
