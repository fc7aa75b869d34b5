from slack_bolt import App

from bot.config import Settings
from bot.slack.listeners.commands.cdo import handle_cdo
from bot.slack.listeners.safely import safely


def register(app: App, settings: Settings) -> None:
    app.command(settings.slack.command)(safely(handle_cdo))
