from slack_bolt import App

from bot.slack.ids import Action
from bot.slack.listeners.actions.journey import handle_journey_changed
from bot.slack.listeners.actions.links import acknowledge_link


def register(app: App) -> None:
    app.action(Action.JOURNEY_CHANGED.value)(handle_journey_changed)
    app.action(Action.OPEN_DISCUSSION.value)(acknowledge_link)
