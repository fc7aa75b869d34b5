"""The forms of a request's answers are submitted: Propose another date, Decline."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.app import requests
from bot.app.hub import Hub
from bot.core import requests as asks
from bot.slack.ids import Block, View, load
from bot.slack.listeners.views.commit import errors_of
from bot.slack.modals import ChangeMeta, State


def handle_answer_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    hub: Hub = context["hub"]
    user = body["user"]["id"]
    meta = load(ChangeMeta, view.get("private_metadata"))
    action = asks.OTHER_DATE if view.get("callback_id") == View.OTHER_DATE.value else asks.DECLINED
    state = State(view)
    new_due = state.date(Block.DUE) if action == asks.OTHER_DATE else None
    reason = state.text(Block.REASON)
    problems = requests.check_answer(hub, user, meta.commitment, action, new_due=new_due, reason=reason)
    if problems:
        ack(response_action="errors", errors=errors_of(problems))
        return
    ack()
    requests.answer(hub, user, meta.commitment, action, new_due=new_due, reason=reason, submission=view.get("id"))
