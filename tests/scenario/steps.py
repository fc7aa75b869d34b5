"""Steps that several scenarios share: propose an initiative, commit, click a button."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core import initiatives
from bot.models import Commitment, Initiative
from bot.sandbox import forms
from bot.slack.ids import View

# Rules of content, forms and rendering need one database; `migrated_url` (conftest), and so the
# `hub` fixture, gives both. Claims, double clicks, the outbox and SQL of note stay on both.
sqlite_only = pytest.mark.parametrize("migrated_url", ["sqlite"], indirect=True)


def propose(hub, *, user_id: str = "U0CMO", **changes: Any) -> Initiative:
    response = hub.send("view_submission", user_id=user_id, callback_id=View.PROPOSE.value, values=forms.proposal(**changes))
    assert response.status == 200 and not response.body_text.strip(), response.body_text
    with hub.runtime.sessions() as session:
        return initiatives.get(session, session.scalar(select(func.max(Initiative.id))))


def submit_commitment(hub, initiative_id: int, *, user_id: str, giver, taker, what, due, on_behalf=False, view_id=None):
    return hub.send(
        "view_submission",
        user_id=user_id,
        callback_id=View.COMMIT.value,
        values=forms.commitment(giver=giver, taker=taker, what=what, due=due, on_behalf=on_behalf),
        private_metadata=json.dumps({"initiative": initiative_id}),
        view_id=view_id,
    )


def click(hub, *, user_id: str, action_id: str, value: str, channel_id: str = "C0HUB", message_ts: str | None = None, **extra: Any):
    return hub.send(
        "block_action",
        user_id=user_id,
        action_id=action_id,
        value=value,
        trigger_id=hub.emulator.new_trigger_id(),
        response_url=hub.emulator.new_response_url(),
        channel_id=channel_id,
        message_ts=message_ts,
        **extra,
    )


def commitment(hub, commitment_id: int) -> Commitment:
    with hub.runtime.sessions() as session:
        found = session.get(Commitment, commitment_id)
        assert found is not None
        found.history  # noqa: B018 - load it while the session is open
        return found
