"""Buttons on the hub card, routed posts and commitment messages."""

from __future__ import annotations

from slack_bolt import Ack, BoltContext, Respond

from bot.core import commitments, permissions
from bot.db import transaction
from bot.models import Commitment
from bot.runtime import Runtime
from bot.slack import modals
from bot.slack.commitments import open_commit_form, show_change
from bot.slack.ids import CommitmentRef, View, load
from bot.slack.messages import InitiativeRef
from bot.slack.people import functions_of

REFUSAL = "Sorry, only the commitment's owner, a lead of the owner's function, the sponsor, hub staff or admins can change it."


def refuse(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def handle_commit_button(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    ref = load(InitiativeRef, body["actions"][0].get("value"))
    problem = open_commit_form(context["hub"], body["trigger_id"], body["user"]["id"], ref.initiative)
    if problem:
        refuse(respond, problem)


def _authorised(hub: Runtime, user: str, commitment_id: int) -> Commitment | None:
    with hub.sessions() as session:
        commitment = session.get(Commitment, commitment_id)
        if commitment is None:
            return None
        allowed = permissions.may_change_commitment(user, commitment, commitment.initiative, hub.settings)
        return commitment if allowed else None


def handle_done(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    hub: Runtime = context["hub"]
    user = body["user"]["id"]
    ref = load(CommitmentRef, body["actions"][0].get("value"))
    if _authorised(hub, user, ref.commitment) is None:
        refuse(respond, REFUSAL)
        return
    with transaction(hub.sessions) as session:
        commitment = session.get(Commitment, ref.commitment)
        assert commitment is not None
        change = commitments.change(session, commitment, commitment.initiative, "done", user, functions_of(hub, user), hub.clock.now())
    if change is not None:  # a second click finds it done already: nothing to announce
        show_change(hub, ref.commitment, change)


def _open_change_form(kind: View, ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    hub: Runtime = context["hub"]
    ref = load(CommitmentRef, body["actions"][0].get("value"))
    commitment = _authorised(hub, body["user"]["id"], ref.commitment)
    if commitment is None:
        refuse(respond, REFUSAL)
        return
    if commitment.status not in commitments.TRANSITIONS["slip" if kind is View.SLIP else "blocked"].allowed_from:
        refuse(respond, f"Commitment #{commitment.id} is {commitment.status} already.")
        return
    view = modals.change_modal(kind, commitment.id, commitment.what, commitment.due.isoformat())
    opened = hub.gateway.open_view(body["trigger_id"], view)
    if not opened.ok:
        refuse(respond, f"The form could not be opened ({opened.error}). Please try again.")


def handle_slip(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    _open_change_form(View.SLIP, ack, body, respond, context)


def handle_blocked(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    _open_change_form(View.BLOCKED, ack, body, respond, context)
