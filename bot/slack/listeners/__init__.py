"""Listeners by kind. Nothing registers at import time: `register_listeners(app)` wires them."""

from slack_bolt import App

from bot.config import Settings
from bot.slack.listeners import actions, commands, events, shortcuts, views


def register_listeners(app: App, settings: Settings) -> None:
    commands.register(app, settings)
    views.register(app)
    shortcuts.register(app)
    actions.register(app)
    events.register(app)
