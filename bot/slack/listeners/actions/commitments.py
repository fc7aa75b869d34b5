"""Buttons on the hub card, routed posts and commitment messages."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.app import commit
from bot.app.commit import Form
from bot.slack.forms import open_form
from bot.slack.ids import CommitmentRef, load
from bot.slack.messages import InitiativeRef


def refuse(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def _open(form: Form, client: WebClient, body: dict[str, Any], respond: Respond, what: str) -> None:
    problem = open_form(client, body["trigger_id"], form.view, form.problem, what)
    if problem:
        refuse(respond, problem)


def handle_commit_button(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    ref = load(InitiativeRef, body["actions"][0].get("value"))
    _open(commit.commit_form(context["hub"], body["user"]["id"], ref.initiative), client, body, respond, "commitment form")


def handle_done(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    ref = load(CommitmentRef, body["actions"][0].get("value"))
    problem = commit.done(context["hub"], body["user"]["id"], ref.commitment)
    if problem:
        refuse(respond, problem)


def handle_slip(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    ref = load(CommitmentRef, body["actions"][0].get("value"))
    _open(commit.change_form(context["hub"], body["user"]["id"], ref.commitment, "slip"), client, body, respond, "form")


def handle_blocked(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    ref = load(CommitmentRef, body["actions"][0].get("value"))
    _open(commit.change_form(context["hub"], body["user"]["id"], ref.commitment, "blocked"), client, body, respond, "form")
