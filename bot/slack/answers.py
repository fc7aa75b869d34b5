"""What a nudge button did, told to the person who clicked and shown on the message (pure)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.app.answers import Choice, Clicked
from bot.app.sweep import SweepReport
from bot.config import Settings
from bot.core.nudge_answers import Outcome
from bot.slack import blocks as bk
from bot.slack.ids import Action
from bot.slack.wording import pair_name, short_day

CHOICES = {
    Action.NUDGE_ON_IT: Choice.ON_IT,
    Action.NUDGE_SNOOZE: Choice.SNOOZE,
    Action.NUDGE_BLOCKED: Choice.BLOCKED,
    Action.NUDGE_AGAIN: Choice.AGAIN,
}
ANNOUNCED = {
    Choice.ON_IT: ":white_check_mark: {user} is on it.",
    Choice.SNOOZE: ":zzz: Snoozed until {until} by {user}.",
    Choice.BLOCKED: ":no_entry: {user} says the pair is blocked: an executive is asked to help.",
    Choice.AGAIN: ":repeat: {user} asked for the pair to be nudged again.",
}
# Whether the buttons stay after the answer: "We're on it" is for each function to give.
KEEPS_BUTTONS = {Choice.ON_IT}


def _until(clicked: Clicked) -> str:
    return short_day(clicked.answer.until, clicked.zone) if clicked.answer.until else "later"


def reply(clicked: Clicked, settings: Settings) -> str:
    """The ephemeral answer to the person who clicked."""
    answer, choice, zone = clicked.answer, clicked.choice, clicked.zone
    pair = pair_name(settings, answer.functions) if answer.functions else "the pair"
    until = _until(clicked)
    if answer.outcome is Outcome.DONE:
        return {
            Choice.ON_IT: f"Thanks: recorded as activity of your function on {pair}.",
            Choice.SNOOZE: f"No nudges for {pair} until {until}.",
            Choice.BLOCKED: f"Noted: {pair} is blocked. " + _followed(clicked.followed, zone, "The sponsor (or the executives) is told"),
            Choice.AGAIN: f"{pair}: " + _followed(clicked.followed, zone, "Their leads are nudged again"),
        }[choice]
    if answer.outcome is Outcome.REFUSED:
        return f"Sorry, only the leads of {pair}, the initiative's sponsor, hub staff or admins can answer this nudge. Nothing changed."
    if answer.outcome is Outcome.NO_FUNCTION:
        return f"Only the people of {pair} can say they are on it: nothing was recorded. A reply in the thread from them counts."
    if answer.outcome is Outcome.STALE:
        return f"This nudge belongs to an earlier round: {pair} moved on since. Nothing changed."
    if answer.outcome is Outcome.ALREADY:
        return {
            Choice.ON_IT: "Already recorded: thanks.",
            Choice.SNOOZE: f"{pair} is snoozed already, until {until}.",
            Choice.BLOCKED: f"Already done: an executive was asked to help {pair}.",
            Choice.AGAIN: f"Already done: {pair} is being nudged again.",
        }[choice]
    return "This nudge no longer exists."


def _followed(report: SweepReport | None, zone: ZoneInfo, done: str) -> str:
    """What the sweep run right after the click did with the pair."""
    lines = report.lines if report else []
    if any(line.status == "sent" for line in lines):
        return f"{done} now."
    deferred = [line.at for line in lines if line.status == "deferred" and line.at]
    if deferred:
        return f"{done} on {short_day(min(deferred), zone)}, in working hours."
    if report and report.install_error:
        return "Slack refused the bot's token, so nothing could be sent: the hub staff must reinstall the app."
    return f"{done} at the next sweep (at most one nudge per pair and week)."


def updated_message(clicked: Clicked, user: str, message: dict[str, Any], clicked_block: str | None) -> list[dict[str, Any]] | None:
    """The clicked message with what happened under the clicked block (its buttons dropped
    unless they stay useful); None when the click changed nothing everyone should see."""
    if clicked.answer.outcome is not Outcome.DONE or not message.get("blocks"):
        return None
    line = ANNOUNCED[clicked.choice].format(user=bk.mention(user), until=_until(clicked))
    updated = []
    for block in message["blocks"]:
        if block.get("block_id") == clicked_block:
            if clicked.choice in KEEPS_BUTTONS:
                updated.append(block)
            updated.append(bk.context(line))
        else:
            updated.append(block)
    return bk.fit_message(updated)
