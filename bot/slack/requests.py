"""Requests as people read them (pure): the request in the hub thread, with the buttons of
whoever's turn it is, and the announcements of its answers (the forms to propose another date
or to decline are in `modals`). A request once accepted is shown as the commitment it became
(`messages.commitment`)."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.core import requests, rules
from bot.models import Commitment, CommitmentChange
from bot.slack import blocks as bk
from bot.slack import messages
from bot.slack.ids import Action, CommitmentRef, DateOffer, dump
from bot.slack.wording import function_name


def _leads(settings: Settings, key: str) -> str:
    function = settings.functions.get(key)
    return " ".join(bk.mention(lead) for lead in function.leads) if function else ""


def message(commitment: Commitment, settings: Settings) -> tuple[str, list[dict[str, Any]]]:
    """A commitment's message in the hub thread: a request while it is one, else the promise."""
    if commitment.requested_by is None or commitment.status not in (rules.REQUESTED, rules.DECLINED):
        return messages.commitment(commitment, settings)
    asked, receiving = function_name(settings, commitment.from_function), function_name(settings, commitment.to_function)
    asker = bk.person(commitment.requested_by)
    declined = commitment.status == rules.DECLINED
    head = (
        f":x: *Request #{commitment.id}* — {asker} asked *{asked}*, for *{receiving}* — declined"
        if declined
        else f":raising_hand: *Request #{commitment.id}* — {asker} asks *{asked}* {_leads(settings, commitment.from_function)}, "
        f"for *{receiving}*"
    )
    lines = [head, bk.user_text(commitment.what, 1500), f"Wanted by *{commitment.due.isoformat()}*"]
    blocks: list[dict[str, Any]] = [bk.section("\n".join(lines))]
    history = messages.history_lines(commitment)
    if history:
        blocks.append(bk.context(bk.shorten("\n".join(history), 2000)))
    if declined:
        return f"Request #{commitment.id} to {asked}, for {receiving}: declined", blocks
    ref = dump(CommitmentRef(commitment.id))
    if commitment.proposed_due is None:
        blocks.append(bk.context(f"For {asked}'s members and leads: accept it, propose another date, or decline it with a reason."))
        blocks.append(
            bk.actions(
                bk.button("Accept", Action.REQUEST_ACCEPT.value, ref, style="primary"),
                bk.button("Propose another date", Action.REQUEST_OTHER_DATE.value, ref),
                bk.button("Decline", Action.REQUEST_DECLINE.value, ref, style="danger"),
            )
        )
    else:
        offered = commitment.proposed_due.isoformat()
        by = bk.person(commitment.proposed_by, nobody=asked)
        blocks.append(bk.context(f"{by} can promise it by *{offered}*: {asker}, accept that date or decline."))
        blocks.append(
            bk.actions(
                bk.button(f"Accept {offered}", Action.REQUEST_ACCEPT_DATE.value, dump(DateOffer(commitment.id, offered)), style="primary"),
                bk.button("Decline", Action.REQUEST_DECLINE.value, ref, style="danger"),
            )
        )
    return f"Request #{commitment.id} to {asked}, for {receiving}, by {commitment.due.isoformat()}", blocks


ANNOUNCEMENTS = {
    requests.ACCEPTED: ":handshake: {actor} accepted request #{id}: it is their commitment now, due {due}.",
    requests.OTHER_DATE: ":calendar: {actor} proposed {new_due} instead of {old_due} for request #{id}{reason}. "
    "{asker}: accept it on the request, or decline it.",
    requests.DATE_ACCEPTED: ":handshake: {actor} accepted {new_due} for request #{id}: it is a commitment of {owner} now.",
    requests.DECLINED: ":x: {actor} declined request #{id}: {reason}",
}


def announcement(change: CommitmentChange) -> str:
    """One line in the hub thread for each change of a commitment or a request."""
    words = ANNOUNCEMENTS.get(change.action)
    if words is None:
        return messages.announcement(change)
    commitment = change.commitment
    reason = bk.user_text(change.reason or "", 1000)
    return words.format(
        actor=bk.person(change.actor),
        id=change.commitment_id,
        due=commitment.due.isoformat(),
        new_due=change.new_due.isoformat() if change.new_due else "",
        old_due=change.old_due.isoformat() if change.old_due else "",
        reason=f" ({reason})" if change.action == requests.OTHER_DATE and reason else reason,
        asker=bk.person(commitment.requested_by, nobody=""),
        owner=bk.person(commitment.owner, nobody=""),
    )
