from slack_bolt import App

from bot.slack.ids import Shortcut
from bot.slack.listeners.safely import safely
from bot.slack.listeners.shortcuts.propose_from_message import handle_propose_from_message


def register(app: App) -> None:
    app.shortcut(Shortcut.PROPOSE_FROM_MESSAGE.value)(safely(handle_propose_from_message, urgent=True))
