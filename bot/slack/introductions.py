"""Introductions as the two leads read them (pure): who meets whom, how long since they last
worked together, one starter idea, and the buttons Propose this and Not now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.models import Introduction
from bot.slack import blocks as bk
from bot.slack.ids import Action, IntroductionRef, dump
from bot.slack.wording import function_name, in_order

JOURNEYS = {"customer": "the customer journey", "employee": "the employee journey", "both": "both journeys"}


def since(last_met_at: datetime | None, now: datetime) -> str:
    """How long since the pair last worked together, in words."""
    if last_met_at is None:
        return "You have never worked together on an initiative in the hub."
    days = max((now - last_met_at).days, 0)
    return f"You last worked together on an initiative {days} day{'' if days == 1 else 's'} ago."


def introduction_message(introduction: Introduction, settings: Settings, now: datetime) -> tuple[str, list[dict[str, Any]]]:
    a, b = (function_name(settings, key) for key in in_order(settings, introduction.functions))
    value = dump(IntroductionRef(introduction.id))
    title = bk.user_text(introduction.idea_title, 300)
    blocks = [
        bk.section(
            f":handshake: *{a}* and *{b}*, meet each other. {since(introduction.last_met_at, now)} "
            "The hub is where functions that do not cross paths start something together."
        ),
        bk.section(
            f"*A first idea:* {title}\n{bk.user_text(introduction.idea_problem, 2000)}\n"
            f"_It changes {JOURNEYS.get(introduction.idea_journey, 'both journeys')}._"
        ),
        bk.actions(
            bk.button("Propose this", Action.INTRODUCTION_PROPOSE.value, value, style="primary"),
            bk.button("Not now", Action.INTRODUCTION_NOT_NOW.value, value),
            block_id=f"introduction.{introduction.id}",
        ),
        bk.context("Propose this opens the proposal form with the idea and both functions; Not now leaves you alone for a while."),
    ]
    return f"{a} and {b}, meet each other: {introduction.idea_title}", blocks
