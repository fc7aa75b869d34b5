"""Deliver a stored initiative: the hub card, one routed post per function, the proposer's
confirmation, and a clear notice of any route that failed. Each post is recorded as it
succeeds, so a failure anywhere loses nothing that was already done."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.core import initiatives
from bot.db import transaction
from bot.models import InitiativeFunction
from bot.runtime import Runtime
from bot.slack import messages
from bot.slack.gateway import ErrorKind, Result

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    hub_link: str | None = None
    route_links: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def post_joining(hub: Runtime, channel: str, text: str, blocks: list[dict]) -> Result:
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


def deliver(hub: Runtime, initiative_id: int) -> DeliveryReport:
    settings = hub.settings
    report = DeliveryReport()
    with transaction(hub.sessions) as session:
        initiative = initiatives.get(session, initiative_id)
        assert initiative is not None, initiative_id
        text, blocks = messages.card(initiative, settings)
        posted = post_joining(hub, settings.hub.channel, text, blocks)
        if posted.ok:
            initiative.hub_channel, initiative.hub_ts = posted["channel"], posted["ts"]
            initiative.status = "active"
            report.hub_link = hub.gateway.permalink(posted["channel"], posted["ts"])
        else:
            log.error("initiative %s: the hub card could not be posted in %s: %s", initiative_id, settings.hub.channel, posted.error)

    route_ids = [route.id for route in initiative.functions]
    for route_id in route_ids:
        _route(hub, route_id, report)

    with hub.sessions() as session:
        initiative = initiatives.get(session, initiative_id)
        assert initiative is not None
        text, blocks = messages.confirmation(initiative, settings, report.hub_link, report.route_links)
        hub.gateway.post_message(initiative.proposer, text, blocks)
        failed = [route for route in initiative.functions if route.route_status == "failed"]
        if failed:
            text, blocks = messages.route_failures(initiative, failed, settings, report.hub_link)
            for person in dict.fromkeys([initiative.proposer, *settings.hub.admins]):
                hub.gateway.post_message(person, text, blocks)
    return report


def _route(hub: Runtime, route_id: int, report: DeliveryReport) -> None:
    settings = hub.settings
    with transaction(hub.sessions) as session:
        route = session.get(InitiativeFunction, route_id)
        assert route is not None
        function = settings.functions.get(route.function_key)
        if function is None:
            route.route_status, route.route_error = "failed", "function no longer configured"
            report.failed.append(route.function_key)
            return
        text, blocks = messages.routed_post(route.initiative, route, settings, report.hub_link)
        posted = post_joining(hub, function.channel, text, blocks)
        if posted.ok:
            route.route_status, route.route_error = "posted", None
            route.route_channel, route.route_ts = posted["channel"], posted["ts"]
            link = hub.gateway.permalink(posted["channel"], posted["ts"])
            if link:
                report.route_links[route.function_key] = link
            return
        route.route_status, route.route_error = "failed", posted.error
        report.failed.append(route.function_key)
        if posted.kind is not ErrorKind.TARGET:
            log.error("route of initiative %s to %s failed: %s", route.initiative_id, function.channel, posted.error)
