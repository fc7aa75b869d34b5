"""Answers do not wait for work, and work does not wait for Slack: while the work of an earlier
click is held up inside Slack, every new request is still answered at once, the later clicks'
work goes on meanwhile (the held one lends its turn), and once Slack answers again every click
is carried out exactly once. And work gives way: it waits while another request is being
answered."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from bot.models import Commitment
from bot.slack.ids import Action
from bot.slack.listener_threads import ANSWER_WITHIN
from bot.slack.listeners import safely
from bot.slack.listeners.safely import TURNS
from tests.scenario.steps import click, propose, submit_commitment

CLICKS = 14  # more than a pool of ten listener threads could hold


def test_new_requests_are_answered_while_earlier_work_waits_for_slack(hub, emulator):
    initiative = propose(hub, title="Customer 360", functions=["marketing", "it"])
    due = date.today() + timedelta(days=20)
    for n in range(CLICKS):
        response = submit_commitment(hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what=f"Promise {n}", due=due)
        assert response.status == 200 and not response.body_text.strip()
    with hub.runtime.sessions() as session:
        promises = session.execute(select(Commitment.id, Commitment.hub_ts).order_by(Commitment.id)).all()
    assert len(promises) == CLICKS

    def done(commitment_id: int, ts: str):
        value = json.dumps({"commitment": commitment_id})
        return click(hub, user_id="U0CIO", action_id=Action.COMMITMENT_DONE.value, value=value, message_ts=ts, settle=False)

    # The first clicks' announcements are held by Slack: their work had every turn.
    holds = [emulator.hold("chat.postMessage") for _ in range(TURNS)]
    for commitment_id, ts in promises[:TURNS]:
        assert done(commitment_id, ts).status == 200
    for hold in holds:
        assert hold.reached.wait(10)

    # Meanwhile every new request is answered at once (well before Bolt's 3 s).
    for commitment_id, ts in promises[TURNS:]:
        started = time.monotonic()
        answer = done(commitment_id, ts)
        assert answer.status == 200 and not answer.body_text.strip()
        assert time.monotonic() - started < ANSWER_WITHIN / 2
    helped = hub.command("help", user_id="U0HR1", settle=False)
    assert helped.status == 200 and "/cdo" in helped.body_text
    # A form to open takes no turn: its trigger would not live until one is free.
    opened = emulator.hold("views.open")
    assert hub.command("propose A candidate journey", user_id="U0CHRO", settle=False).status == 200
    assert opened.reached.wait(10)
    opened.release.set()
    # And their work is done meanwhile, announcements included: a turn waiting on Slack is lent.
    # (The held announcements are in the thread already: Slack carried them out, and holds the
    # answers.)
    deadline = time.monotonic() + 30
    while len(announced(emulator, initiative)) < CLICKS:
        assert time.monotonic() < deadline, f"the later clicks waited for the held ones: {len(announced(emulator, initiative))} announced"
        time.sleep(0.02)
    assert statuses(hub, [c for c, _ in promises]) == ["done"] * CLICKS

    for hold in holds:
        hold.release.set()
    hub.settle()
    with hub.runtime.sessions() as session:
        assert session.scalars(select(Commitment.status)).all() == ["done"] * CLICKS
    assert len(announced(emulator, initiative)) == CLICKS  # each click announced once, the held ones last
    home = json.dumps(emulator.home("U0CIO"))
    assert not any(f"Promise {n}" in home for n in range(CLICKS))  # the tab shows the last change
    assert emulator.errors() == []


def test_work_waits_while_another_request_is_being_answered(hub, emulator, monkeypatch):
    monkeypatch.setattr(safely, "GIVE_WAY", 30.0)
    initiative = propose(hub, title="Customer 360", functions=["marketing", "it"])
    due = date.today() + timedelta(days=20)
    submit_commitment(hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what="API spec", due=due)
    with hub.runtime.sessions() as session:
        commitment_id, ts = session.execute(select(Commitment.id, Commitment.hub_ts)).one()

    # A /cdo help that stays in the middle of being answered until it is released.
    held, release = threading.Event(), threading.Event()

    def hold(body: dict, next: Callable[[], None]) -> None:
        if body.get("command") and body.get("text") == "help":
            held.set()
            release.wait(30)
        next()

    hub.app.middleware(hold)
    helped = []
    asking = threading.Thread(target=lambda: helped.append(hub.command("help", user_id="U0HR1", settle=False)))
    asking.start()
    assert held.wait(10)

    # The click is answered at once, but its work waits for the answer under way: once it has
    # asked for its turn, nothing of it can happen before the help is answered.
    asked, taken = threading.Event(), threading.Event()
    take = hub.app.turns.take

    def asking_for_the_turn() -> None:
        asked.set()
        take()
        taken.set()

    monkeypatch.setattr(hub.app.turns, "take", asking_for_the_turn)
    value = json.dumps({"commitment": commitment_id})
    answer = click(hub, user_id="U0CIO", action_id=Action.COMMITMENT_DONE.value, value=value, message_ts=ts, settle=False)
    assert answer.status == 200
    assert asked.wait(10)
    assert not taken.wait(0.3)  # still waiting
    assert statuses(hub, [commitment_id]) == ["open"] and announced(emulator, initiative) == []

    release.set()
    asking.join(10)
    assert helped and helped[0].status == 200
    hub.settle()
    assert statuses(hub, [commitment_id]) == ["done"] and len(announced(emulator, initiative)) == 1


def statuses(hub, commitment_ids: list[int]) -> list[str]:
    with hub.runtime.sessions() as session:
        return list(session.scalars(select(Commitment.status).where(Commitment.id.in_(commitment_ids)).order_by(Commitment.id)))


def announced(emulator, initiative) -> list:
    return [m for m in emulator.thread("C0HUB", initiative.hub_ts) if "marked commitment" in m.text]
