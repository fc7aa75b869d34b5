"""The form that changes an initiative's obstacles is submitted."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.app import obstacles
from bot.slack.ids import Block, ObstaclesMeta, load
from bot.slack.modals import State


def handle_obstacles_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    user = body["user"]["id"]
    meta = load(ObstaclesMeta, view.get("private_metadata"))
    keys = list(dict.fromkeys(State(view).options(Block.OBSTACLE_LINKS)))
    problem = obstacles.check(context["hub"], user, meta.initiative, keys)
    if problem:
        ack(response_action="errors", errors={Block.OBSTACLE_LINKS.value: problem})
        return
    ack()
    obstacles.change(context["hub"], user, meta.initiative, keys)
