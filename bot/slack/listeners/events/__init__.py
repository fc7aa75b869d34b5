"""Events: the Home tab is published when opened. Replies in threads are taken before the
listeners (bot/slack/inbox.py); every other message event, and an event of any other type, is
acknowledged and ignored, so Slack does not retry it (Bolt answers 404 to a request no listener
matches)."""

import re

from slack_bolt import App

from bot.slack.listeners.events.app_home import handle_app_home_opened
from bot.slack.listeners.events.ignored import ignore_event, ignore_message
from bot.slack.listeners.safely import safely


def register(app: App) -> None:
    app.event("message")(safely(ignore_message, urgent=True))  # nothing to do: no turn to wait for
    app.event("app_home_opened")(safely(handle_app_home_opened))
    app.event(re.compile(""))(safely(ignore_event, urgent=True))  # last: any type not matched above
