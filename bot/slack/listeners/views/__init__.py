from slack_bolt import App

from bot.slack.ids import View
from bot.slack.listeners.safely import safely
from bot.slack.listeners.views.commit import handle_change_submission, handle_commit_submission
from bot.slack.listeners.views.obstacles import handle_obstacles_submission
from bot.slack.listeners.views.propose import handle_propose_submission
from bot.slack.listeners.views.requests import handle_answer_submission


def register(app: App) -> None:
    app.view(View.PROPOSE.value)(safely(handle_propose_submission))
    app.view(View.COMMIT.value)(safely(handle_commit_submission))
    app.view(View.SLIP.value)(safely(handle_change_submission))
    app.view(View.BLOCKED.value)(safely(handle_change_submission))
    app.view(View.OTHER_DATE.value)(safely(handle_answer_submission))
    app.view(View.DECLINE.value)(safely(handle_answer_submission))
    app.view(View.OBSTACLES.value)(safely(handle_obstacles_submission))
