"""A hub whose time is set by the test, against the local Slack emulator, for nudge tests.

Initiatives are stored and delivered as in production (hub card, routes); people act through
bot.core.activity and bot.core.commitments; sweeps are the real `run_sweep`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app.digest import run_digest
from bot.app.propose import deliver
from bot.app.sweep import SweepReport, run_sweep
from bot.clock import FixedClock
from bot.core import activity, commitments, initiatives, requests
from bot.db import transaction
from bot.models import Initiative, Nudge, Pair
from bot.runtime import Runtime, build_runtime
from bot.sandbox.emulator import Emulator
from bot.sandbox.harness import demo_settings
from bot.sandbox.workspace import Message
from bot.slack.pacing import Pacer

PARIS = ZoneInfo("Europe/Paris")
# Rules of time and content need one database; the `world` fixture (conftest) gives both.
sqlite_only = pytest.mark.parametrize("world", ["sqlite"], indirect=True)


def paris(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A moment of March 2026 in Paris: Monday the 2nd, Saturday the 7th, Monday the 9th…"""
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


class FakeTime:
    """Seconds that pass only when someone sleeps: pacing per channel without waiting. Usable
    as a monotonic clock, a sleeper, and the emulator's clock (it starts at the real time)."""

    def __init__(self) -> None:
        self.now = time.time()
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        """Time passing without anyone waiting (between two sweeps, say)."""
        with self._lock:
            self.now += seconds

    def pacer(self, rate: float = 1.0, burst: int = 3) -> Pacer:
        return Pacer(rate, burst, monotonic=self, sleep=self.sleep)


def runtime_for(database_url: str, emulator: Emulator, clock: FixedClock, pacer: Pacer | None = None, **changes: Any) -> Runtime:
    """`changes`: nudges.<field>=… and hub.<field>=… as keyword arguments `nudges`, `hub`."""
    settings = demo_settings(database_url)
    settings = replace(settings, slack=replace(settings.slack, bot_token=emulator.bot_token, api_url=emulator.base_url))
    if "nudges" in changes:
        settings = replace(settings, nudges=replace(settings.nudges, **changes["nudges"]))
    if "hub" in changes:
        settings = replace(settings, hub=replace(settings.hub, **changes["hub"]))
    if "introductions" in changes:
        settings = replace(settings, introductions=replace(settings.introductions, **changes["introductions"]))
    return build_runtime(settings, clock=clock, max_retries=2, pacer=pacer)


class World:
    """The hub's time is `clock` (the sweeps' "now"); its pacing per channel runs on `time`,
    which moves only when the pacer waits, so a test sees the waits without waiting them."""

    def __init__(self, database_url: str, emulator: Emulator, **changes: Any) -> None:
        self.url, self.emulator, self.changes = database_url, emulator, changes
        self.clock = FixedClock(paris(2, 10))
        self.time = FakeTime()
        self.hub = runtime_for(database_url, emulator, self.clock, self.time.pacer(), **changes)

    def close(self) -> None:
        self.hub.close()

    def another_process(self) -> Runtime:
        """A second hub on the same database and workspace, as another process would be (with
        a pacer of its own)."""
        return runtime_for(self.url, self.emulator, self.clock, self.time.pacer(), **self.changes)

    # --- what people do --------------------------------------------------------------------

    def propose(
        self, at: datetime | None = None, *, functions=("marketing", "it"), sponsor: str | None = "U0CEO", title: str = "One customer view"
    ) -> int:
        self.clock.set(at or self.clock.now())
        proposal = initiatives.Proposal(proposer="U0CMO", title=title, functions=tuple(functions), sponsor=sponsor)
        with transaction(self.hub.sessions) as session:
            initiative_id = initiatives.create(session, proposal, self.hub.settings, self.clock.now()).id
        deliver(self.hub, initiative_id)
        return initiative_id

    def act(self, initiative_id: int, user: str, at: datetime) -> None:
        with transaction(self.hub.sessions) as session:
            initiative = session.get(Initiative, initiative_id)
            activity.record(session, initiative, user, activity.functions_of(user, self.hub.settings), "reply", at)

    def commit(
        self, initiative_id: int, at: datetime, due: date, *, ends=("it", "marketing"), owner: str = "U0CIO", what: str = "API spec"
    ) -> int:
        with transaction(self.hub.sessions) as session:
            initiative = session.get(Initiative, initiative_id)
            draft = commitments.Draft(owner=owner, from_function=ends[0], to_function=ends[1], what=what, due=due)
            return commitments.create(session, draft, initiative, [ends[0]], at).id

    def ask(
        self, initiative_id: int, at: datetime, due: date, *, ends=("it", "marketing"), asker: str = "U0CMO", what: str = "API spec"
    ) -> int:
        """`asker` asks `ends[0]` for something, for `ends[1]` (a request, answered by nobody yet)."""
        with transaction(self.hub.sessions) as session:
            initiative = session.get(Initiative, initiative_id)
            draft = commitments.Draft(owner=asker, from_function=ends[0], to_function=ends[1], what=what, due=due)
            return requests.ask(session, draft, initiative, asker, activity.functions_of(asker, self.hub.settings), at).id

    def sweep(self, at: datetime, hub: Runtime | None = None, **options: Any) -> SweepReport:
        self.clock.set(at)
        self.time.advance(60)  # the channels rest between sweeps
        return run_sweep(hub or self.hub, **options)

    def digest(self, at: datetime, **options: Any) -> SweepReport:
        self.clock.set(at)
        return run_digest(self.hub, **options)

    # --- what Slack saw ----------------------------------------------------------------------

    def thread_of(self, initiative_id: int) -> tuple[str, str]:
        with self.hub.sessions() as session:
            initiative = session.get(Initiative, initiative_id)
            return initiative.hub_channel, initiative.hub_ts

    def pair_nudges(self, initiative_id: int) -> list[Message]:
        channel, ts = self.thread_of(initiative_id)
        return [m for m in self.emulator.thread(channel, ts) if "nudge_on_it" in json.dumps(m.blocks)]

    def escalations(self, user: str) -> list[Message]:
        return [m for m in self.emulator.dms(user) if "nudge_again" in json.dumps(m.blocks)]

    def digests(self, user: str) -> list[Message]:
        return [m for m in self.emulator.dms(user) if "weekly digest" in json.dumps(m.blocks)]

    def nudge_rows(self) -> list[Nudge]:
        with self.hub.sessions() as session:
            return list(session.scalars(select(Nudge).order_by(Nudge.id)))

    def pair(self, initiative_id: int) -> Pair:
        with self.hub.sessions() as session:
            return session.scalars(select(Pair).where(Pair.initiative_id == initiative_id)).one()


def sent(report: SweepReport) -> list[str]:
    return [line.delivery.key for line in report.lines if line.status == "sent"]
