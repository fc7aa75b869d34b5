"""The hub card's overflow menu: mark the initiative active, blocked, done or dropped, or change
the obstacles that hold it back."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.app import follow, obstacles
from bot.slack import obstacles as obstacle_words
from bot.slack.forms import open_form
from bot.slack.ids import ObstacleMenu, StatusChoice, load_first


def _refuse(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def handle_initiative_status(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    choice = load_first((StatusChoice, ObstacleMenu), body["actions"][0]["selected_option"]["value"])
    if isinstance(choice, ObstacleMenu):
        _open_obstacles(choice.initiative, body, respond, client, context)
        return
    assert isinstance(choice, StatusChoice)
    outcome = follow.set_status(context["hub"], body["user"]["id"], choice.initiative, choice.status)
    if outcome is follow.StatusOutcome.REFUSED:
        _refuse(respond, "Sorry, only the proposer, the sponsor, hub staff or admins can change an initiative's status.")


def _open_obstacles(initiative_id: int, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    hub = context["hub"]
    found = obstacles.choice(hub, body["user"]["id"], initiative_id)
    view = None if found.problem else obstacle_words.form(hub.settings, initiative_id, found.title, found.linked)
    problem = open_form(client, body["trigger_id"], view, found.problem, "obstacles form")
    if problem:
        _refuse(respond, problem)
