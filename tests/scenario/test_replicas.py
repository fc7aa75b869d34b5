"""Replicas: real `serve` processes on one database, fed the same moment from two sides.

Two functions answering at the same instant must meet (the pair's joint activity is set every
time), a retried event landing on the other replica counts once, and two Done clicks on two
replicas change and announce the commitment once, as two Accept clicks do a request. The single-process case runs too, on
Postgres and on SQLite. Every writer of a pair locks the initiative's pairs the same way
(`bot.core.pairs.locked`), so two of them at once never deadlock either.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import activity, nudge_answers
from bot.db import make_engine, make_sessionmaker, transaction, upgrade
from bot.models import Activity, Commitment, CommitmentChange, Initiative, Pair, ProcessedEvent
from bot.sandbox.emulator import Emulator
from bot.sandbox.harness import LocalHub, demo_settings
from bot.sandbox.signed import Response
from bot.slack.ids import Action
from tests.replicas import STOPPED, Replica, replicas, wait_until
from tests.scenario import steps

TRIALS = 20
MARKETER, IT_PERSON = "U0MKT1", "U0IT1"
T = TypeVar("T")


@dataclass
class Setup:
    """Initiatives made by an in-test hub, then served by the replicas."""

    hub: LocalHub
    emulator: Emulator

    def sessions(self) -> Session:
        return self.hub.runtime.sessions()


@pytest.fixture
def setup(request, emulator) -> Iterator[Setup]:
    url = request.getfixturevalue(request.param)
    upgrade(url)
    with LocalHub(demo_settings(url), emulator, migrate=False) as hub:
        yield Setup(hub, emulator)
        assert not hub.listener_errors, hub.listener_errors


def served(setup: Setup, count: int, tmp_path: Path) -> AbstractContextManager[list[Replica]]:
    return replicas(count, setup.hub.settings.database_url, setup.emulator, tmp_path)


def together(*work: Callable[[], T]) -> list[T]:
    """Run each callable in its own thread, released together by a barrier; their results."""
    barrier = threading.Barrier(len(work))
    results: dict[int, T] = {}
    failures: list[BaseException] = []

    def run(index: int, job: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except BaseException as error:  # surfaced below (a deadlock Postgres broke, say)
            failures.append(error)

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert len(results) == len(work), "a thread did not finish"
    return [results[n] for n in range(len(work))]


def at_once(*sends: Callable[[], Response]) -> None:
    """Signed requests sent at the same instant, each answered 200."""
    responses = together(*sends)
    assert all(r.status == 200 for r in responses), responses


def reply_event(emulator: Emulator, channel: str, thread_ts: str, user: str, text: str) -> dict:
    """A person writes in Slack (the emulator keeps it); this is the event Slack then sends."""
    message = emulator.add_user_message(channel, user, text, thread_ts=thread_ts)
    return {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": message.ts,
        "event_ts": message.ts,
        "thread_ts": thread_ts,
        "channel_type": "channel",
    }


def at(event: dict) -> datetime:
    return datetime.fromtimestamp(float(event["ts"]), UTC)


def clean(*running: Replica) -> None:
    """Stop the replicas (the fence: their pending work is done) and check nothing failed."""
    for replica in running:
        code = replica.stop()
        log = replica.output()
        assert code in STOPPED and "Traceback" not in log, f"{replica.name} exited with {code}:\n{log}"


# --- two functions at the same instant -------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "processes"),
    [
        pytest.param("postgres_url", 2, marks=pytest.mark.postgres, id="postgres-two-replicas"),
        pytest.param("postgres_url", 1, marks=pytest.mark.postgres, id="postgres-one-process"),
        pytest.param("sqlite_url", 1, id="sqlite-one-process"),
    ],
    indirect=["setup"],
)
def test_replies_from_two_functions_at_the_same_instant_always_meet(setup: Setup, processes: int, tmp_path: Path):
    made = [steps.propose(setup.hub, functions=["marketing", "it"], title=f"Shared customer record, wave {n}") for n in range(TRIALS)]
    with served(setup, processes, tmp_path) as running:
        for trial, initiative in enumerate(made):
            marketing = reply_event(setup.emulator, "C0HUB", initiative.hub_ts, MARKETER, f"Campaign brief ready ({trial})")
            it = reply_event(setup.emulator, "C0HUB", initiative.hub_ts, IT_PERSON, f"API spec ready ({trial})")
            first, second = running[trial % processes], running[(trial + 1) % processes]
            at_once(partial(first.sender.event, marketing), partial(second.sender.event, it))

            def recorded(initiative_id: int = initiative.id) -> bool:
                with setup.sessions() as session:
                    count = session.scalar(select(func.count()).select_from(Activity).where(Activity.initiative_id == initiative_id))
                    return count == 2

            wait_until(recorded, f"both replies of trial {trial}", 30, *running)
            with setup.sessions() as session:
                pair = session.scalars(select(Pair).where(Pair.initiative_id == initiative.id)).one()
                assert (pair.function_a, pair.function_b) == ("it", "marketing")
                assert (pair.last_activity_a, pair.last_activity_b) == (at(it), at(marketing)), f"trial {trial}"
                assert pair.last_joint_activity_at == min(at(it), at(marketing)), f"trial {trial}: the pair never met"
        clean(*running)


# --- a retried event on the other replica ----------------------------------------------------


def routed(initiative: Initiative, key: str) -> tuple[str, str]:
    route = next(f for f in initiative.functions if f.function_key == key)
    assert route.route_channel and route.route_ts
    return route.route_channel, route.route_ts


def mirrors(setup: Setup, initiative: Initiative, text: str) -> int:
    return sum(text in m.text for m in setup.emulator.thread("C0HUB", initiative.hub_ts or "") if m.user == "UBOT")


def activities(setup: Setup, ref: str) -> int:
    with setup.sessions() as session:
        return session.scalar(select(func.count()).select_from(Activity).where(Activity.ref == ref)) or 0


def dropped(running: list[Replica], event_id: str) -> bool:
    return any(f"event {event_id} (reply" in r.output() and "already handled" in r.output() for r in running)


@pytest.mark.postgres
@pytest.mark.parametrize("setup", ["postgres_url"], indirect=True)
def test_a_retried_event_landing_on_the_other_replica_is_recorded_once(setup: Setup, tmp_path: Path):
    initiative = steps.propose(setup.hub, functions=["marketing", "it"])
    channel, thread = routed(initiative, "it")
    with served(setup, 2, tmp_path) as (one, other):
        # Slack retries after the first delivery was handled (its answer was slow to arrive).
        late = reply_event(setup.emulator, channel, thread, IT_PERSON, "The ERP export runs nightly now")
        first = one.sender.event(late)
        wait_until(lambda: mirrors(setup, initiative, "ERP export") == 1, "the first delivery's mirror", 30, one)
        assert other.sender.event(late, event_id=first.event_id, retry_num=1).status == 200
        wait_until(lambda: dropped([other], first.event_id or ""), "the retry to be dropped", 30, other)

        # A retry and the first delivery at the same instant, each on its own replica.
        both = reply_event(setup.emulator, channel, thread, IT_PERSON, "DAM vendors shortlisted")
        event_id = "EvSAMEINSTANT"
        at_once(lambda: one.sender.event(both, event_id=event_id), lambda: other.sender.event(both, event_id=event_id, retry_num=1))
        wait_until(lambda: dropped([one, other], event_id), "one of the two deliveries to be dropped", 30, one, other)
        clean(one, other)

    assert activities(setup, f"{channel}:{late['ts']}") == 1 and activities(setup, f"{channel}:{both['ts']}") == 1
    assert mirrors(setup, initiative, "ERP export") == 1 and mirrors(setup, initiative, "DAM vendors") == 1
    with setup.sessions() as session:
        claims = session.execute(select(ProcessedEvent.event_id, ProcessedEvent.status)).all()
    events = sorted((claim, status) for claim, status in claims if not claim.startswith("view:"))  # the form's own claim aside
    assert events == sorted([(first.event_id, "done"), (event_id, "done")])


# --- two Done clicks on two replicas ---------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("setup", ["postgres_url"], indirect=True)
def test_done_clicked_on_two_replicas_at_once_changes_and_announces_once(setup: Setup, tmp_path: Path):
    initiative = steps.propose(setup.hub, functions=["marketing", "it"])
    due = date.today() + timedelta(days=14)
    steps.submit_commitment(setup.hub, initiative.id, user_id="U0CIO", giver="it", taker="marketing", what="a customer API", due=due)
    with setup.sessions() as session:
        commitment = session.scalars(select(Commitment)).one()
    value = json.dumps({"commitment": commitment.id})

    def done(replica: Replica, user: str) -> Callable[[], Response]:
        return lambda: replica.sender.block_action(
            user_id=user,
            action_id=Action.COMMITMENT_DONE.value,
            value=value,
            trigger_id=setup.emulator.new_trigger_id(),
            response_url=setup.emulator.new_response_url(),
            channel_id="C0HUB",
            message_ts=commitment.hub_ts,
        )

    def announced() -> int:
        return sum("marked commitment" in m.text for m in setup.emulator.thread("C0HUB", initiative.hub_ts or ""))

    with served(setup, 2, tmp_path) as (one, other):
        at_once(done(one, "U0CIO"), done(other, "U0CDO"))  # the owner and an admin
        wait_until(lambda: announced() >= 1, "the announcement", 30, one, other)
        clean(one, other)

    assert announced() == 1
    with setup.sessions() as session:
        changes = session.scalars(select(CommitmentChange).where(CommitmentChange.commitment_id == commitment.id)).all()
        assert [c.action for c in changes] == ["created", "done"]
        stored = session.get(Commitment, commitment.id)
        assert stored is not None and stored.status == "done"
    updates = [c for c in setup.emulator.calls_to("chat.update") if c.args.get("ts") == commitment.hub_ts]
    assert len(updates) == 1  # the commitment's message, redrawn once


@pytest.mark.postgres
@pytest.mark.parametrize("setup", ["postgres_url"], indirect=True)
def test_a_request_accepted_on_two_replicas_at_once_has_one_owner(setup: Setup, tmp_path: Path):
    initiative = steps.propose(setup.hub, functions=["marketing", "it"])
    due = date.today() + timedelta(days=14)
    steps.submit_commitment(setup.hub, initiative.id, user_id=MARKETER, giver="it", taker="marketing", what="a customer API", due=due)
    with setup.sessions() as session:
        request = session.scalars(select(Commitment)).one()
    assert request.status == "requested"

    def accept(replica: Replica, user: str) -> Callable[[], Response]:
        return lambda: replica.sender.block_action(
            user_id=user,
            action_id=Action.REQUEST_ACCEPT.value,
            value=json.dumps({"commitment": request.id}),
            trigger_id=setup.emulator.new_trigger_id(),
            response_url=setup.emulator.new_response_url(),
            channel_id="C0HUB",
            message_ts=request.hub_ts,
        )

    def announced() -> int:
        return sum("accepted request" in m.text for m in setup.emulator.thread("C0HUB", initiative.hub_ts or ""))

    with served(setup, 2, tmp_path) as (one, other):
        at_once(accept(one, "U0CIO"), accept(other, IT_PERSON))  # two members of IT
        wait_until(lambda: announced() >= 1, "the announcement", 30, one, other)
        clean(one, other)

    assert announced() == 1
    with setup.sessions() as session:
        changes = session.scalars(select(CommitmentChange).where(CommitmentChange.commitment_id == request.id)).all()
        assert [c.action for c in changes] == ["requested", "accepted"]
        stored = session.get(Commitment, request.id)
        assert stored is not None and stored.status == "open" and stored.owner == changes[-1].actor
    assert len([c for c in setup.emulator.calls_to("chat.update") if c.args.get("ts") == request.hub_ts]) == 1


# --- every writer of a pair takes the same locks, in the same order --------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("setup", ["postgres_url"], indirect=True)
def test_we_are_on_it_and_a_reply_at_once_never_deadlock(setup: Setup):
    """A click on "We're on it" answers for one pair, then records activity, which locks all
    of the initiative's pairs; a reply locks them all at once. Both take them in one order."""
    initiative = steps.propose(setup.hub, functions=["marketing", "it", "hr"])
    with setup.sessions() as session:
        clicked = max(
            pair.id for pair in session.scalars(select(Pair).where(Pair.initiative_id == initiative.id)) if "it" in pair.functions
        )
    settings = setup.hub.settings
    engines = [make_engine(settings.database_url) for _ in range(2)]  # as two processes
    click_sessions, reply_sessions = (make_sessionmaker(engine) for engine in engines)
    try:
        for trial in range(TRIALS):
            now = datetime.now(UTC)

            def click(trial: int = trial, now: datetime = now) -> None:
                with transaction(click_sessions) as session:
                    answer = nudge_answers.on_it(session, settings, clicked, 1000 + trial, "U0CIO", ["it"], now)
                    assert answer.outcome is nudge_answers.Outcome.DONE

            def reply(now: datetime = now) -> None:
                with transaction(reply_sessions) as session:
                    found = session.get(Initiative, initiative.id)
                    assert found is not None
                    activity.record(session, found, MARKETER, ["marketing"], "reply", now)

            together(click, reply)
    finally:
        for engine in engines:
            engine.dispose()
    with setup.sessions() as session:
        kinds = session.scalars(select(Activity.kind).where(Activity.initiative_id == initiative.id)).all()
    assert sorted(kinds) == sorted([nudge_answers.ON_IT, "reply"] * TRIALS)
