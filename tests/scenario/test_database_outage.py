"""The database stops answering while people use the hub, then comes back.

On a PostgreSQL server of the test's own (the machine's shared one is never stopped): events
are answered 503 so that Slack retries them, a click, a command or a form is told to try again
in a minute, nothing is half stored, and once the database is back Slack's retry is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.db import upgrade
from bot.models import Activity, Commitment
from bot.sandbox.harness import LocalHub, demo_settings
from bot.slack.errors import TRY_AGAIN
from bot.slack.ids import Action, CommitmentRef, dump
from tests.scenario.steps import propose, submit_commitment
from tests.throwaway_postgres import ThrowawayPostgres

pytestmark = pytest.mark.postgres

DUE = date.today() + timedelta(days=20)


@pytest.fixture
def server(postgres_server) -> Iterator[ThrowawayPostgres]:
    with ThrowawayPostgres() as own:
        yield own


@pytest.fixture
def hub(server, emulator) -> Iterator[LocalHub]:
    upgrade(server.url)
    with LocalHub(demo_settings(server.url), emulator, migrate=False) as running:
        yield running


def reply_event(hub: LocalHub, channel: str, thread_ts: str, text: str) -> dict:
    message = hub.emulator.add_user_message(channel, "U0IT1", text, thread_ts=thread_ts)
    event = {"type": "message", "channel": channel, "user": "U0IT1", "text": text, "ts": message.ts}
    return {**event, "thread_ts": thread_ts, "channel_type": "channel"}


def count(hub: LocalHub, model: type) -> int:
    with hub.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_outage_loses_nothing_and_asks_people_to_try_again(hub, server):
    initiative = propose(hub, functions=["marketing", "it"])
    route = next(f for f in initiative.functions if f.function_key == "it")
    assert submit_commitment(hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what="An API", due=DUE).status == 200
    with hub.runtime.sessions() as session:
        commitment_id = session.scalars(select(Commitment.id)).one()
    event = reply_event(hub, route.route_channel, route.route_ts, "Still on it")
    hub.emulator.reset_records()

    server.stop()
    # An event: not kept, so not acknowledged — Slack will retry it.
    refused = hub.send("event", event=event)
    assert refused.status == 503
    # A form: answered in the form itself.
    form = submit_commitment(hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what="Another", due=DUE)
    assert form.status == 200 and form.json["response_action"] == "errors"
    assert list(form.json["errors"].values()) == [TRY_AGAIN]
    # A command read before its answer: an ephemeral answer.
    looked_up = hub.command(f"status {initiative.id}", user_id="U0CMO")
    assert looked_up.status == 200 and looked_up.json == {"response_type": "ephemeral", "text": TRY_AGAIN}
    # A click, acknowledged first: told through its response URL.
    url = hub.emulator.new_response_url()
    clicked = hub.send(
        "block_action",
        user_id="U0CIO",
        action_id=Action.COMMITMENT_DONE.value,
        value=dump(CommitmentRef(commitment_id)),
        channel_id="C0HUB",
        response_url=url,
        trigger_id=hub.emulator.new_trigger_id(),
    )
    assert clicked.status == 200
    assert [r.json["text"] for r in hub.emulator.responses] == [TRY_AGAIN]
    assert all(call.method != "chat.postMessage" for call in hub.emulator.calls)  # nothing announced

    server.start()
    retried = hub.send("event", event=event, event_id=refused.event_id, retry_num=1)
    assert retried.status == 200
    hub.settle()
    assert count(hub, Activity) >= 1
    mirrors = [m for m in hub.emulator.thread("C0HUB", initiative.hub_ts) if "Still on it" in json.dumps(m.blocks)]
    assert len(mirrors) == 1
    with hub.runtime.sessions() as session:
        assert session.get(Commitment, commitment_id).status == "open"  # the click changed nothing
        assert session.scalar(select(func.count()).select_from(Commitment)) == 1  # the refused form stored nothing
    assert len(hub.listener_errors) == 3  # the form, the command and the click, each answered
