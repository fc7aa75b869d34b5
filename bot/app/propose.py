"""Propose and route: check a proposal, store it with what its delivery owes (the hub card,
one routed post per function, the proposer's confirmation), and send that through the outbox
(bot/app/outbox.py), which also tells the proposer and the admins of a route that failed.
"""

from __future__ import annotations

from bot.app import outbox, owed
from bot.app.hub import Hub
from bot.app.people import known, known_today
from bot.core import events, initiatives, introductions
from bot.core import outbox as box
from bot.core.initiatives import Proposal, Refusal, SponsorCheck
from bot.db import transaction
from bot.logs import about


def sponsor_check(hub: Hub, sponsor: str | None) -> SponsorCheck | None:
    """What the hub already knows of the sponsor (no call to Slack: this runs before the form
    is answered). Someone it knows nothing of is accepted; escalations skip a sponsor who
    turns out to be unreachable and go to the executives."""
    info = known(hub, sponsor) if sponsor else None
    return SponsorCheck(is_bot=info.is_bot, deleted=info.deleted) if info is not None else None


def check(hub: Hub, proposal: Proposal) -> Refusal:
    """What is wrong with the proposal, phrased for the form (empty when it can be stored)."""
    return initiatives.validate(proposal, hub.settings, known_today(hub, proposal.proposer), sponsor_check(hub, proposal.sponsor))


class AlreadyProposed(Exception):
    """The introduction this proposal comes from became an initiative already."""


def store(hub: Hub, proposal: Proposal, *, submission: str | None = None, introduction: int | None = None) -> int | None:
    """Store the initiative and, in the same transaction, everything its delivery owes.

    `submission` names the form submitted (its view ID): a form submitted again, because the
    first answer was slow, stores nothing more and returns None. `introduction` names the
    introduction it comes from: it records the initiative, once (else AlreadyProposed).
    """
    try:
        with transaction(hub.sessions) as session:
            if submission:
                events.claim(session, f"view:{submission}", hub.clock.now())
            initiative = initiatives.create(session, proposal, hub.settings, hub.clock.now())
            if introduction is not None and not introductions.link(
                session, introduction, initiative.id, proposal.proposer, hub.clock.now()
            ):
                raise AlreadyProposed()
            owed.owe_delivery(session, initiative, hub.clock.now())
            return initiative.id
    except events.AlreadyProcessed:
        return None


def route(hub: Hub, initiative_id: int, *, source: tuple[str, str] | None = None) -> outbox.DrainReport:
    """After the proposal is stored (and Slack answered): check the sponsor the hub knew nothing
    of, link the message it came from, then deliver it."""
    with about(initiative_id=initiative_id):
        _check_sponsor(hub, initiative_id)
        if source is not None:
            link = hub.gateway.permalink(*source)
            with transaction(hub.sessions) as session:
                initiatives.set_source_link(session, initiative_id, link)
        return deliver(hub, initiative_id)


def _check_sponsor(hub: Hub, initiative_id: int) -> None:
    """A sponsor who is a bot or deactivated is not kept; the proposer is told
    in their confirmation, and escalations go to the executives meanwhile."""
    with hub.sessions() as session:
        initiative = initiatives.get(session, initiative_id)
        sponsor = initiative.sponsor if initiative is not None else None
    if not sponsor:
        return
    info = hub.directory.user(sponsor)
    if info is None:
        return  # Slack did not say (it may be down): kept; escalations check reachability again
    problem = initiatives.sponsor_problem(SponsorCheck(is_bot=info.is_bot, deleted=info.deleted))
    if problem is None:
        return
    with transaction(hub.sessions) as session:
        initiative = initiatives.get(session, initiative_id)
        if initiative is not None and initiative.sponsor == sponsor:
            initiative.sponsor = None
            box.annotate(session, owed.confirmation_key(initiative_id), sponsor_problem=problem)


def deliver(hub: Hub, initiative_id: int) -> outbox.DrainReport:
    """Send the hub card, the routed posts and the confirmation of a stored initiative (what
    is already out is not sent again; what fails now is retried by the scheduler)."""
    with transaction(hub.sessions) as session:
        initiative = initiatives.get(session, initiative_id)
        assert initiative is not None, initiative_id
        keys = owed.owe_delivery(session, initiative, hub.clock.now())
    return outbox.drain(hub, keys=keys)
