from slack_bolt import App

from bot.slack.ids import Action
from bot.slack.listeners.actions.commitments import handle_blocked, handle_commit_button, handle_done, handle_slip
from bot.slack.listeners.actions.initiative_status import handle_initiative_status
from bot.slack.listeners.actions.introductions import handle_not_now, handle_propose_this
from bot.slack.listeners.actions.journey import handle_journey_changed
from bot.slack.listeners.actions.links import acknowledge_link
from bot.slack.listeners.actions.nudges import handle_nudge_button
from bot.slack.listeners.actions.requests import handle_accept, handle_accept_date, handle_decline, handle_other_date
from bot.slack.listeners.safely import safely


def register(app: App) -> None:
    # urgent: the work after the answer opens or updates a modal (or there is none), so it takes no turn
    app.action(Action.JOURNEY_CHANGED.value)(safely(handle_journey_changed, urgent=True))
    app.action(Action.OPEN_DISCUSSION.value)(safely(acknowledge_link, urgent=True))  # nothing to do after the answer
    app.action(Action.COMMIT.value)(safely(handle_commit_button, urgent=True))
    app.action(Action.COMMITMENT_DONE.value)(safely(handle_done))
    app.action(Action.COMMITMENT_SLIP.value)(safely(handle_slip, urgent=True))
    app.action(Action.COMMITMENT_BLOCKED.value)(safely(handle_blocked, urgent=True))
    app.action(Action.REQUEST_ACCEPT.value)(safely(handle_accept))
    app.action(Action.REQUEST_OTHER_DATE.value)(safely(handle_other_date, urgent=True))
    app.action(Action.REQUEST_DECLINE.value)(safely(handle_decline, urgent=True))
    app.action(Action.REQUEST_ACCEPT_DATE.value)(safely(handle_accept_date))
    app.action(Action.INITIATIVE_STATUS.value)(safely(handle_initiative_status, urgent=True))
    app.action(Action.INTRODUCTION_PROPOSE.value)(safely(handle_propose_this, urgent=True))
    app.action(Action.INTRODUCTION_NOT_NOW.value)(safely(handle_not_now))
    for choice in (Action.NUDGE_ON_IT, Action.NUDGE_SNOOZE, Action.NUDGE_BLOCKED, Action.NUDGE_AGAIN):
        app.action(choice.value)(safely(handle_nudge_button))
