"""The audience rules of bot.core.audience, fed with what Slack says of the channels (through
the directory, cached): whether text may be copied into the hub channel. It may ask Slack, so
it runs after Slack is answered; it raises SlackUnavailable when Slack cannot say, so nothing
is decided on a guess."""

from __future__ import annotations

from bot.app.hub import Hub
from bot.core import audience


def barrier(hub: Hub, source: str, target: str | None = None) -> audience.Barrier | None:
    """What stops text written in `source` from being copied into `target` (the hub channel
    by default); None when it may be copied."""
    return audience.barrier(hub.directory.facts(source), hub.directory.facts(target or hub.settings.hub.channel))
