"""Propose and route: check a proposal, store it, and deliver it — the hub card, one routed
post per function, the proposer's confirmation, and a clear notice of any route that failed.

Each post is recorded as it succeeds, so a failure anywhere loses nothing already done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bot.app.hub import Hub
from bot.app.people import local_today
from bot.app.port import ErrorKind, Result
from bot.core import initiatives
from bot.core.initiatives import Proposal, Refusal, SponsorCheck
from bot.db import transaction
from bot.models import InitiativeFunction

log = logging.getLogger(__name__)


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
    with transaction(hub.sessions) as session:
        return initiatives.create(session, proposal, hub.settings, hub.clock.now()).id


def route(hub: Hub, initiative_id: int, *, source: tuple[str, str] | None = None) -> DeliveryReport:
    """After the proposal is stored: link the message it came from, then deliver it."""
    if source is not None:
        link = hub.gateway.permalink(*source)
        with transaction(hub.sessions) as session:
            initiatives.set_source_link(session, initiative_id, link)
    return deliver(hub, initiative_id)


@dataclass
class DeliveryReport:
    hub_link: str | None = None
    route_links: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def post_joining(hub: Hub, channel: str, text: str, blocks: list[dict[str, Any]]) -> Result:
    """Post; if the bot is not in a public channel, join it and post once more."""
    result = hub.gateway.post_message(channel, text, blocks)
    if result.ok or result.error != "not_in_channel":
        return result
    info = hub.directory.channel(channel)
    if not info or info.get("is_private") or info.get("is_archived"):
        return result
    joined = hub.gateway.join(info["id"])
    if not joined.ok:
        return joined
    hub.directory.forget_channel(channel)
    return hub.gateway.post_message(info["id"], text, blocks)


def deliver(hub: Hub, initiative_id: int) -> DeliveryReport:
    settings = hub.settings
    report = DeliveryReport()
    with transaction(hub.sessions) as session:
        initiative = initiatives.get(session, initiative_id)
        assert initiative is not None, initiative_id
        text, blocks = hub.render.card(initiative, settings)
        posted = post_joining(hub, settings.hub.channel, text, blocks)
        if posted.ok:
            initiative.hub_channel, initiative.hub_ts = posted["channel"], posted["ts"]
            initiative.status = "active"
            report.hub_link = hub.gateway.permalink(posted["channel"], posted["ts"])
        else:
            log.error("initiative %s: the hub card could not be posted in %s: %s", initiative_id, settings.hub.channel, posted.error)
        route_ids = [involved.id for involved in initiative.functions]

    for route_id in route_ids:
        _route(hub, route_id, report)

    with hub.sessions() as session:
        initiative = initiatives.get(session, initiative_id)
        assert initiative is not None
        text, blocks = hub.render.confirmation(initiative, settings, report.hub_link, report.route_links)
        hub.gateway.post_message(initiative.proposer, text, blocks)
        failed = [involved for involved in initiative.functions if involved.route_status == "failed"]
        if failed:
            text, blocks = hub.render.route_failures(initiative, failed, settings, report.hub_link)
            for person in dict.fromkeys([initiative.proposer, *settings.hub.admins]):
                hub.gateway.post_message(person, text, blocks)
    return report


def _route(hub: Hub, route_id: int, report: DeliveryReport) -> None:
    settings = hub.settings
    with transaction(hub.sessions) as session:
        involved = session.get(InitiativeFunction, route_id)
        assert involved is not None
        function = settings.functions.get(involved.function_key)
        if function is None:
            involved.route_status, involved.route_error = "failed", "function no longer configured"
            report.failed.append(involved.function_key)
            return
        text, blocks = hub.render.routed_post(involved.initiative, involved, settings, report.hub_link)
        posted = post_joining(hub, function.channel, text, blocks)
        if posted.ok:
            involved.route_status, involved.route_error = "posted", None
            involved.route_channel, involved.route_ts = posted["channel"], posted["ts"]
            link = hub.gateway.permalink(posted["channel"], posted["ts"])
            if link:
                report.route_links[involved.function_key] = link
            return
        involved.route_status, involved.route_error = "failed", posted.error
        report.failed.append(involved.function_key)
        if posted.kind is not ErrorKind.TARGET:
            log.error("route of initiative %s to %s failed: %s", involved.initiative_id, function.channel, posted.error)
