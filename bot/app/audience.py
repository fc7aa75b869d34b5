"""The audience rules of bot.core.audience, fed with what Slack says of the channels (through
the directory, cached): whether text may be copied into the hub channel, and who a person is as
a viewer of initiatives. Both may ask Slack, so they run after Slack is answered; both raise
SlackUnavailable when Slack cannot say, so nothing is decided on a guess."""

from __future__ import annotations

from bot.app.hub import Hub
from bot.app.people import functions_of
from bot.core import audience


def barrier(hub: Hub, source: str, target: str | None = None) -> audience.Barrier | None:
    """What stops text written in `source` from being copied into `target` (the hub channel
    by default); None when it may be copied."""
    return audience.barrier(hub.directory.facts(source), hub.directory.facts(target or hub.settings.hub.channel))


def viewer(hub: Hub, user: str) -> audience.Viewer:
    """What `user` may see of the initiatives. With a public hub channel that is everything,
    and Slack is asked nothing more than the hub channel's facts."""
    hub_channel = hub.directory.facts(hub.settings.hub.channel)
    found = audience.viewer(user, hub.settings, hub_channel, ())
    if found.everything:
        return found  # no need to ask Slack which functions they belong to
    return audience.viewer(user, hub.settings, hub_channel, functions_of(hub, user))


def not_shown(initiative_id: int) -> str:
    """The polite answer, without a word of its content, to someone who may not see an initiative."""
    return (
        f"Initiative #{initiative_id} is discussed in the hub channel, which is private: it is shown to the channel's "
        "members, to the people of the initiative's functions, to its proposer and sponsor, and to executives and hub "
        "staff. Ask the hub staff if you should be one of them."
    )
