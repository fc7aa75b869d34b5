"""Events: the Home tab is published when opened. Replies in threads are taken before the
listeners (bot/slack/inbox.py); every other message event is acknowledged and ignored, so
Slack does not retry it (an unhandled event is answered 404)."""

from slack_bolt import App

from bot.slack.listeners.events.app_home import handle_app_home_opened
from bot.slack.listeners.events.ignored import ignore_message
from bot.slack.listeners.safely import safely


def register(app: App) -> None:
    app.event("message")(safely(ignore_message, urgent=True))  # nothing to do: no turn to wait for
    app.event("app_home_opened")(safely(handle_app_home_opened))
