"""The hub's clockwork inside `serve`: one APScheduler job per process, kept in memory.

APScheduler 3 requires that a job store never be shared between schedulers, so each process
has its own MemoryJobStore and nothing about the schedule is written to the database. A
restart starts the schedule afresh; what must be neither lost nor doubled is read from the
hub's own tables instead:

- The tick runs at start and then every `sweep_every_minutes`: first the nudge sweep, then
  the weekly digest if it is due. A sweep handles whatever the database says is due (pairs
  past their next check time, claimed nudges not yet sent), so a tick missed while the
  process was down is made up by the next one.
- The digest has no cron job of its own. Each tick asks `bot.core.schedule.digest_due`: has
  this week's moment (`[digest] day` and `time`, in the hub's time zone) passed with a
  recipient still unclaimed? So the digest goes out at most one interval after its moment, a
  process that starts after the moment sends it at once, and a digest stopped before its
  claims (a refused token) is tried again at the next tick. A cron job of its own would be at most one
  interval more punctual, and would still need this check at start and a retry.
- Any number of replicas may run this job, each with its own settings: every message is
  claimed under a unique key in the same database before it is sent, so two ticks at once
  send it once, and no replica can overwrite another's schedule.

A second job, every few seconds, sends what the outbox still owes (a message whose first
attempt failed, or whose sender died) and handles events stored but not handled; each message
and event is taken by one process at a time, so replicas share that work too.

The scheduler does not know the use cases: `start` is given the callables to run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.core.schedule import digest_due

log = logging.getLogger(__name__)

TICK_JOB = "sweep-and-digest"
DELIVERY_JOB = "deliveries"
INTRODUCTIONS_JOB = "introductions"
DELIVER_EVERY_SECONDS = 15  # what is still owed goes out within a minute or two of Slack coming back


class Hub(Protocol):
    """What the tick reads from the running hub (bot.runtime.Runtime has it)."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock


@runtime_checkable
class Counted(Protocol):
    """A report that counts its messages by status, for the log line."""

    def count(self, status: str) -> int: ...


def _summary(result: object) -> str:
    if isinstance(result, Counted):
        return ", ".join(f"{result.count(status)} {status}" for status in ("sent", "deferred", "failed"))
    return "done"


def tick(hub: Hub, *, sweep: Callable[[], object], digest: Callable[[], object]) -> None:
    """One round: the sweep, then the digest if this week's is due. One failing spares the other."""
    try:
        log.info("nudge sweep: %s", _summary(sweep()))
    except Exception:
        log.exception("the nudge sweep failed; the next tick tries again")
    try:
        with hub.sessions() as session:
            due = digest_due(session, hub.settings, hub.clock.now())
        if due:
            log.info("weekly digest: %s", _summary(digest()))
    except Exception:
        log.exception("the weekly digest failed; the next tick tries again")


def deliver_tick(deliver: Callable[[], object]) -> None:
    try:
        deliver()
    except Exception:
        log.exception("delivering what is owed failed; the next tick tries again")


def introduce_tick(introduce: Callable[[], object]) -> None:
    try:
        log.info("introductions: %s", _summary(introduce()))
    except Exception:
        log.exception("the introductions pass failed; tomorrow's tries again")


def build(
    hub: Hub,
    *,
    sweep: Callable[[], object],
    digest: Callable[[], object],
    deliver: Callable[[], object] | None = None,
    introduce: Callable[[], object] | None = None,
) -> BackgroundScheduler:
    """The scheduler with its jobs, not started (a test can add listeners first). `deliver`,
    when given, runs every few seconds: messages still owed, and events stored but not handled."""
    every = hub.settings.nudges.sweep_every_minutes
    scheduler = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone=hub.settings.tz)
    scheduler.add_job(
        tick,
        IntervalTrigger(minutes=every, timezone=hub.settings.tz),
        args=(hub,),
        kwargs={"sweep": sweep, "digest": digest},
        id=TICK_JOB,
        name="nudge sweep and weekly digest",
        next_run_time=datetime.now(UTC),  # at start: catch up at once
        coalesce=True,  # ticks missed while this process was busy run once
        max_instances=1,  # a tick due while the last still runs is skipped, never run alongside
        misfire_grace_time=None,  # a late tick is still worth running
    )
    if deliver is not None:
        scheduler.add_job(
            deliver_tick,
            IntervalTrigger(seconds=DELIVER_EVERY_SECONDS),
            args=(deliver,),
            id=DELIVERY_JOB,
            name="messages owed and events pending",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
    if introduce is not None and hub.settings.introductions.enabled:
        # Once a day (and at start): a pass finds nothing to do for a pair introduced lately,
        # so a restart that runs it again sends nothing twice.
        scheduler.add_job(
            introduce_tick,
            IntervalTrigger(days=1, timezone=hub.settings.tz),
            args=(introduce,),
            id=INTRODUCTIONS_JOB,
            name="introductions of the pairs that never meet",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
    return scheduler


def start(
    hub: Hub,
    *,
    sweep: Callable[[], object],
    digest: Callable[[], object],
    deliver: Callable[[], object] | None = None,
    introduce: Callable[[], object] | None = None,
) -> BackgroundScheduler:
    scheduler = build(hub, sweep=sweep, digest=digest, deliver=deliver, introduce=introduce)
    scheduler.start()
    log.info(
        "scheduler started: the nudge sweep and the digest check run now and every %d minutes", hub.settings.nudges.sweep_every_minutes
    )
    return scheduler


def stop(scheduler: BackgroundScheduler, *, wait: bool = False) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=wait)
