"""Commitments at the edge: open the forms, post the commitment in the hub thread, update it
in place and announce each change once."""

from __future__ import annotations

import logging
from bot.core import initiatives
from bot.db import transaction
from bot.models import Commitment, CommitmentChange
from bot.runtime import Runtime
from bot.slack import messages, modals
from bot.slack.home import publish_home
from bot.slack.people import functions_of

log = logging.getLogger(__name__)


def open_commit_form(hub: Runtime, trigger_id: str, user: str, initiative_id: int) -> str | None:
    """Open the Commit modal; returns what to tell the person when it cannot be opened."""
    with hub.sessions() as session:
        initiative = initiatives.get(session, initiative_id)
    if initiative is None:
        return f"There is no initiative #{initiative_id}."
    if initiative.status not in initiatives.OPEN_STATUSES:
        return f"Initiative #{initiative_id} is {initiative.status}: it takes no new commitments."
    mine = [key for key in functions_of(hub, user) if key in initiative.function_keys]
    view = modals.commit_modal(hub.settings, initiative.id, initiative.title, initiative.function_keys, mine[0] if mine else None)
    opened = hub.gateway.open_view(trigger_id, view)
    return None if opened.ok else f"The commitment form could not be opened ({opened.error}). Please try again."


def refresh_homes(hub: Runtime, *users: str) -> None:
    """Republish the App Home of the people a commitment change concerns."""
    for user in dict.fromkeys(users):
        publish_home(hub, user)


def post_commitment(hub: Runtime, commitment_id: int) -> None:
    """Post a new commitment in its initiative's hub thread and remember where."""
    with transaction(hub.sessions) as session:
        commitment = session.get(Commitment, commitment_id)
        assert commitment is not None
        initiative = commitment.initiative
        channel = initiative.hub_channel or hub.settings.hub.channel
        text, blocks = messages.commitment(commitment, hub.settings)
        posted = hub.gateway.post_message(channel, text, blocks, thread_ts=initiative.hub_ts)
        if posted.ok:
            commitment.hub_channel, commitment.hub_ts = posted["channel"], posted["ts"]
        else:
            log.error("commitment %s could not be posted in %s: %s", commitment_id, channel, posted.error)
        owner = commitment.owner
    refresh_homes(hub, owner)


def show_change(hub: Runtime, commitment_id: int, change: CommitmentChange) -> None:
    """Update the commitment's message in place and announce the change in the thread."""
    with hub.sessions() as session:
        commitment = session.get(Commitment, commitment_id)
        assert commitment is not None
        initiative = commitment.initiative
        text, blocks = messages.commitment(commitment, hub.settings)
        if commitment.hub_ts and commitment.hub_channel:
            hub.gateway.update_message(commitment.hub_channel, commitment.hub_ts, text, blocks)
        channel = initiative.hub_channel or hub.settings.hub.channel
        hub.gateway.post_message(channel, messages.announcement(change), thread_ts=initiative.hub_ts)
        owner = commitment.owner
    refresh_homes(hub, owner, change.actor)
