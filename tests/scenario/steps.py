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


def routed_ts(initiative, key: str) -> tuple[str, str]:
    route = next(f for f in initiative.functions if f.function_key == key)
    assert route.route_status == "posted"
    return route.route_channel, route.route_ts


def reply(hub, channel: str, user: str, text: str, thread_ts: str | None, *, event_id=None, retry_num=None, settle=True, **extra):
    """A person writes in Slack (the emulator keeps the message), then Slack sends the event."""
    message = hub.emulator.add_user_message(channel, user, text, thread_ts=thread_ts)
    event = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": message.ts,
        "event_ts": message.ts,
        "channel_type": "channel",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra)
    response = hub.send("event", settle=settle, event=event, event_id=event_id, retry_num=retry_num)
    assert response.status == 200, response.body_text
    return response, event
