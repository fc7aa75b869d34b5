"""Listeners by kind. Nothing registers at import time: `register_listeners(app)` wires them."""

from slack_bolt import App

from bot.config import Settings
from bot.slack.listeners import actions, commands, events, shortcuts, views


def register_listeners(app: App, settings: Settings) -> None:
    # Bolt asks each listener in turn whether a request is its own, each time with the
    # arguments it names (tens of microseconds a listener): events, by far the most frequent
    # requests (every message in the channels the hub is in), are asked about first.
    events.register(app)
    commands.register(app, settings)
    views.register(app)
    actions.register(app)
    shortcuts.register(app)
