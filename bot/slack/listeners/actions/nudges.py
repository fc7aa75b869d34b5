"""The buttons of nudges: We're on it, Snooze a week, Blocked (the pair's message) and Nudge
them again, Snooze (the executive's DM). Blocked and Nudge them again are followed by a sweep
of that pair alone, so the executive or the pair hear at once (in working hours)."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext, Respond

from bot.core import nudges
from bot.db import transaction
from bot.runtime import Runtime
from bot.slack.ids import Action, NudgeRef, load
from bot.slack.nudging import answer_click, run_sweep
from bot.slack.people import functions_of


def _click(body: dict) -> tuple[str, NudgeRef]:
    return body["user"]["id"], load(NudgeRef, body["actions"][0].get("value"))


def handle_on_it(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    hub: Runtime = context["hub"]
    user, ref = _click(body)
    functions = functions_of(hub, user)
    with transaction(hub.sessions) as session:
        answer = nudges.on_it(session, hub.settings, ref.pair, ref.nudge, user, functions, hub.clock.now())
    answer_click(hub, body, respond, Action.NUDGE_ON_IT, answer)


def handle_snooze(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    hub: Runtime = context["hub"]
    user, ref = _click(body)
    with transaction(hub.sessions) as session:
        answer = nudges.snooze(session, hub.settings, ref.pair, ref.round, user, hub.clock.now())
    answer_click(hub, body, respond, Action.NUDGE_SNOOZE, answer)


def handle_blocked(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    hub: Runtime = context["hub"]
    user, ref = _click(body)
    with transaction(hub.sessions) as session:
        answer = nudges.blocked(session, hub.settings, ref.pair, ref.round, user, hub.clock.now())
    followed = run_sweep(hub, pair_ids=[ref.pair]) if answer.outcome is nudges.Outcome.DONE else None
    answer_click(hub, body, respond, Action.NUDGE_BLOCKED, answer, followed)


def handle_again(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    hub: Runtime = context["hub"]
    user, ref = _click(body)
    with transaction(hub.sessions) as session:
        answer = nudges.again(session, hub.settings, ref.pair, ref.round, user, hub.clock.now())
    followed = run_sweep(hub, pair_ids=[ref.pair]) if answer.outcome is nudges.Outcome.DONE else None
    answer_click(hub, body, respond, Action.NUDGE_AGAIN, answer, followed)
