"""The hub's clockwork inside `serve`: APScheduler jobs for the nudge sweep and the digest.

Jobs are stored in the hub's own database (SQLAlchemyJobStore, table `apscheduler_jobs`), so
a restart keeps the schedule: a job that is already stored with the same trigger keeps its
next run time instead of being rescheduled from "now", and a run missed while the process
was down happens once at start (coalesce) if it is within the grace time. Several replicas
may each run the jobs: the sweep and the digest claim every message in the database, so a
run twice sends nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.app.hub import Hub as Runtime

log = logging.getLogger(__name__)

SWEEP_JOB = "nudge-sweep"
DIGEST_JOB = "weekly-digest"
DIGEST_GRACE = 12 * 3600  # a digest missed at 09:00 still goes out if the hub is back by 21:00

# Stored jobs name their function by reference ("bot.scheduler:sweep_job"), and a Runtime
# cannot be pickled: the running hub is found here. One scheduler per process.
_hub: Runtime | None = None


def _current() -> Runtime:
    if _hub is None:
        raise RuntimeError("the scheduler's jobs run only inside a started scheduler")
    return _hub


def sweep_job() -> None:
    from bot.app.sweep import run_sweep

    report = run_sweep(_current())
    log.info("nudge sweep: %d pairs checked, %d sent, %d deferred, %d failed", report.checked, report.count("sent"), report.count("deferred"), report.count("failed"))


def digest_job() -> None:
    from bot.app.digest import run_digest

    report = run_digest(_current())
    log.info("weekly digest: %d sent, %d deferred to working hours", report.count("sent"), report.count("deferred"))


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str
    trigger: BaseTrigger
    grace: int  # misfire_grace_time, seconds


def job_specs(settings: Settings) -> list[JobSpec]:
    every = settings.nudges.sweep_every_minutes
    day, at = settings.digest.day, settings.digest.time
    return [
        JobSpec(SWEEP_JOB, f"{__name__}:sweep_job", IntervalTrigger(minutes=every, timezone=settings.tz), every * 60),
        JobSpec(DIGEST_JOB, f"{__name__}:digest_job", CronTrigger(day_of_week=day, hour=at.hour, minute=at.minute, timezone=settings.tz), DIGEST_GRACE),
    ]


def _same_schedule(stored: BaseTrigger, wanted: BaseTrigger) -> bool:
    if isinstance(stored, IntervalTrigger) and isinstance(wanted, IntervalTrigger):
        return stored.interval == wanted.interval and str(stored.timezone) == str(wanted.timezone)
    return type(stored) is type(wanted) and repr(stored) == repr(wanted)


def start(hub: Runtime) -> BackgroundScheduler:
    global _hub
    _hub = hub
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=hub.engine)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=hub.settings.tz,
    )
    scheduler.start(paused=True)  # the job store is open: stored jobs can be read before any runs
    for spec in job_specs(hub.settings):
        stored = scheduler.get_job(spec.id)
        keep = {"next_run_time": stored.next_run_time} if stored is not None and _same_schedule(stored.trigger, spec.trigger) else {}
        scheduler.add_job(
            spec.func, spec.trigger, id=spec.id, name=spec.id, replace_existing=True, misfire_grace_time=spec.grace, coalesce=True, max_instances=1, **keep
        )
    scheduler.resume()
    for job in scheduler.get_jobs():
        log.info("scheduled %s: next run %s", job.id, job.next_run_time)
    return scheduler


def stop(scheduler: BackgroundScheduler, *, wait: bool = False) -> None:
    global _hub
    if scheduler.running:
        scheduler.shutdown(wait=wait)
    _hub = None
