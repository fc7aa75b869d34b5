"""Buttons on a request in the hub thread: Accept, Propose another date and Decline for the
function asked, Accept <date> for the asker."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.app import requests
from bot.core import requests as asks
from bot.slack.forms import open_form
from bot.slack.ids import CommitmentRef, DateOffer, load
from bot.slack.listeners.actions.commitments import refuse


def handle_accept(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    ref = load(CommitmentRef, body["actions"][0].get("value"))
    problem = requests.answer(context["hub"], body["user"]["id"], ref.commitment, asks.ACCEPTED)
    if problem:
        refuse(respond, problem)


def handle_accept_date(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    offer = load(DateOffer, body["actions"][0].get("value"))
    problem = requests.answer(context["hub"], body["user"]["id"], offer.commitment, asks.DATE_ACCEPTED, seen=date.fromisoformat(offer.due))
    if problem:
        refuse(respond, problem)


def _open(action: str, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    ref = load(CommitmentRef, body["actions"][0].get("value"))
    form = requests.answer_form(context["hub"], body["user"]["id"], ref.commitment, action)
    problem = open_form(client, body["trigger_id"], form.view, form.problem, "form")
    if problem:
        refuse(respond, problem)


def handle_other_date(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    _open(asks.OTHER_DATE, ack, body, respond, client, context)


def handle_decline(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    _open(asks.DECLINED, ack, body, respond, client, context)
