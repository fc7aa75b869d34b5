"""The buttons of an introduction: Propose this (the proposal form, prefilled with the idea and
both functions) and Not now (the pair is left alone for `quiet_days`). For the two leads, hub
staff and admins; anyone else is told politely, and nothing changes."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.app import introduce
from bot.core.introductions import Answer
from bot.models import Introduction
from bot.slack import blocks as bk
from bot.slack import modals
from bot.slack.forms import open_view
from bot.slack.ids import IntroductionRef, load
from bot.slack.modals import ProposeMeta

log = logging.getLogger(__name__)


def refusal(answer: Answer, introduction: Introduction | None, settings: Any) -> str:
    if answer is Answer.REFUSED:
        return "Only the leads of the two functions, hub staff and admins can answer this introduction."
    if answer is Answer.FUNCTION_GONE and introduction is not None:
        gone = [key for key in introduction.functions if key not in settings.functions]
        return f"This introduction is for a function no longer configured ({', '.join(gone)}): nothing to propose."
    if answer is Answer.ALREADY_PROPOSED and introduction is not None:
        number = f" #{introduction.initiative_id}" if introduction.initiative_id else ""
        return f"This introduction was already proposed as initiative{number}: follow it in the hub."
    if answer is Answer.ALREADY_NOT_NOW:
        return "Already answered “Not now”: the hub leaves this pair alone for a while."
    return "This introduction no longer exists."


def handle_propose_this(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    hub = context["hub"]
    user = body["user"]["id"]
    ref = load(IntroductionRef, body["actions"][0].get("value"))
    answer, proposal, introduction = introduce.proposal_for(hub, user, ref.introduction)
    if proposal is None:
        respond(text=refusal(answer, introduction, hub.settings), response_type="ephemeral", replace_original=False)
        return
    view = modals.propose_modal(
        hub.settings,
        title=proposal.title,
        problem=proposal.problem,
        journey=proposal.journey,
        preselected=proposal.functions,
        sponsor=modals.default_sponsor(hub.settings),
        meta=ProposeMeta(introduction=proposal.introduction),
    )
    error = open_view(client, body["trigger_id"], view)
    if error:
        respond(text=f":warning: The proposal form could not be opened ({error}). Please try again.", response_type="ephemeral")


def handle_not_now(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    hub = context["hub"]
    user = body["user"]["id"]
    ref = load(IntroductionRef, body["actions"][0].get("value"))
    answer, introduction = introduce.not_now(hub, user, ref.introduction)
    if answer is not Answer.DONE:
        respond(text=refusal(answer, introduction, hub.settings), response_type="ephemeral", replace_original=False)
        return
    days = hub.settings.introductions.quiet_days
    respond(text=f"Noted: the hub will not introduce you again for {days} days.", response_type="ephemeral", replace_original=False)
    message = body.get("message") or {}
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    if channel and message.get("ts"):
        kept = [block for block in message.get("blocks") or [] if block.get("type") != "actions"]
        kept.append(bk.context(f"{bk.mention(user)} answered *Not now*."))
        try:
            client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or "Introduction", blocks=kept)
        except (SlackApiError, SlackClientError, OSError) as failure:
            log.warning("the introduction %s could not be updated after Not now: %s", message.get("ts"), failure)
