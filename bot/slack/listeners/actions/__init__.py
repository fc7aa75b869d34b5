from slack_bolt import App

from bot.slack.ids import Action
from bot.slack.listeners.actions.commitments import handle_blocked, handle_commit_button, handle_done, handle_slip
from bot.slack.listeners.actions.initiative_status import handle_initiative_status
from bot.slack.listeners.actions.journey import handle_journey_changed
from bot.slack.listeners.actions.links import acknowledge_link
from bot.slack.listeners.actions import nudges as nudge_buttons


def register(app: App) -> None:
    app.action(Action.JOURNEY_CHANGED.value)(handle_journey_changed)
    app.action(Action.OPEN_DISCUSSION.value)(acknowledge_link)
    app.action(Action.COMMIT.value)(handle_commit_button)
    app.action(Action.COMMITMENT_DONE.value)(handle_done)
    app.action(Action.COMMITMENT_SLIP.value)(handle_slip)
    app.action(Action.COMMITMENT_BLOCKED.value)(handle_blocked)
    app.action(Action.INITIATIVE_STATUS.value)(handle_initiative_status)
    app.action(Action.NUDGE_ON_IT.value)(nudge_buttons.handle_on_it)
    app.action(Action.NUDGE_SNOOZE.value)(nudge_buttons.handle_snooze)
    app.action(Action.NUDGE_BLOCKED.value)(nudge_buttons.handle_blocked)
    app.action(Action.NUDGE_AGAIN.value)(nudge_buttons.handle_again)
