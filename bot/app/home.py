"""The Home tab: read what a person's tab shows and publish it.

Called when the tab is opened and after anything that changes what someone's tab shows (a
commitment made or changed). Failures are logged: a tab is never worth failing a request.
"""

from __future__ import annotations

import logging
from functools import partial

from bot.app import roadmap
from bot.app.hub import Hub
from bot.app.people import functions_of, local_today
from bot.app.port import InstallBroken, SlackUnavailable
from bot.core import audience, home

log = logging.getLogger(__name__)


def publish_home(hub: Hub, user_id: str) -> None:
    try:
        functions = functions_of(hub, user_id)
        viewer = audience.viewer(user_id, hub.settings, hub.directory.facts(hub.settings.hub.channel), functions)
    except SlackUnavailable as unavailable:
        log.warning("the Home tab of %s was not published: %s", user_id, unavailable)
        return
    today = local_today(hub, user_id)
    now = hub.clock.now()
    with hub.sessions() as session:
        data = home.gather(session, hub.settings, user_id, functions, today, now, viewer)
    couples = roadmap.shown_many(hub, user_id, roadmap.couples_of(hub, user_id), viewer, limit=roadmap.HOME_ITEMS)
    try:
        published = hub.gateway.publish_home(user_id, hub.render.home(data, hub.settings, couples))
    except InstallBroken:
        return  # already logged by the gateway, and reported on /healthz
    if not published.ok:
        log.warning("the Home tab of %s could not be published: %s", user_id, published.error)


def refresh_homes(hub: Hub, *users: str | None) -> None:
    """Republish the Home tab of each person a change concerns, once each (None: someone
    forgotten). A tab being published already is published once more after it instead."""
    for user in dict.fromkeys(users):
        if user:
            hub.homes.run(user, partial(publish_home, hub, user))
