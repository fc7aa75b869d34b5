from slack_bolt import App

from bot.slack.ids import View
from bot.slack.listeners.views.propose import handle_propose_submission


def register(app: App) -> None:
    app.view(View.PROPOSE.value)(handle_propose_submission)
