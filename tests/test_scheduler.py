"""The scheduler inside `serve`: jobs stored in the hub's database, a schedule that survives a
restart, and missed runs caught up once."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, text

from bot import scheduler as clockwork
from bot.db import upgrade
from tests.nudge_world import World, paris


@pytest.fixture
def world(migrated_url, emulator):
    running = World(migrated_url, emulator)
    running.clock.set(paris(16, 9))
    yield running
    running.close()


@pytest.fixture
def started():
    schedulers = []

    def start(hub):
        scheduler = clockwork.start(hub)
        schedulers.append(scheduler)
        return scheduler

    yield start
    for scheduler in schedulers:
        clockwork.stop(scheduler, wait=True)


def stored_jobs(world: World) -> dict[str, float]:
    with world.hub.engine.connect() as connection:
        return dict(connection.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).all())


def set_next_runs(world: World, **when: datetime) -> None:
    """Move stored jobs, as if the hub had been down meanwhile (no scheduler runs here)."""
    store = SQLAlchemyJobStore(engine=world.hub.engine)
    store.start(BackgroundScheduler(), "default")  # a scheduler object to rebuild jobs with; not started
    for job_id, moment in when.items():
        job = store.lookup_job(job_id.replace("_", "-"))
        state = job.__getstate__()
        state["next_run_time"] = moment
        job.__setstate__(state)
        store.update_job(job)


def runs(caplog, what: str) -> int:
    return sum(1 for record in caplog.records if record.name == "bot.scheduler" and record.getMessage().startswith(what))


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_jobs_live_in_the_database_and_keep_their_schedule_across_restarts(world, started):
    scheduler = started(world.hub)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"nudge-sweep", "weekly-digest"}
    sweep, digest = jobs["nudge-sweep"], jobs["weekly-digest"]
    assert sweep.trigger.interval == timedelta(minutes=15)
    assert (sweep.coalesce, sweep.max_instances, sweep.misfire_grace_time) == (True, 1, 900)
    local = digest.next_run_time.astimezone(world.hub.settings.tz)
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)  # Monday 09:00 in Paris
    before = stored_jobs(world)
    assert set(before) == {"nudge-sweep", "weekly-digest"}

    clockwork.stop(scheduler, wait=True)
    time.sleep(0.05)
    started(world.hub)  # a restart: not rescheduled from "now"
    assert stored_jobs(world) == before


def test_a_changed_interval_replaces_the_stored_job(world, migrated_url, emulator, started):
    clockwork.stop(started(world.hub), wait=True)
    faster = World(migrated_url, emulator, nudges={"sweep_every_minutes": 5})
    try:
        scheduler = started(faster.hub)
        assert scheduler.get_job("nudge-sweep").trigger.interval == timedelta(minutes=5)
    finally:
        faster.close()


def test_runs_missed_while_down_happen_once_at_start(world, started, caplog):
    caplog.set_level(logging.INFO, logger="bot.scheduler")
    world.propose(paris(2, 10))
    clockwork.stop(started(world.hub), wait=True)
    now = datetime.now(timezone.utc)
    # Down for an hour: four sweeps and Monday's digest were missed.
    set_next_runs(world, nudge_sweep=now - timedelta(minutes=61), weekly_digest=now - timedelta(hours=3))

    scheduler = started(world.hub)
    wait_for(lambda: runs(caplog, "nudge sweep") >= 1 and runs(caplog, "weekly digest") >= 1)
    time.sleep(0.5)
    assert runs(caplog, "nudge sweep") == 1 and runs(caplog, "weekly digest") == 1
    assert len(world.digests("U0CEO")) == 1 and len(world.digests("U0CDO")) == 1
    assert scheduler.get_job("nudge-sweep").next_run_time > now
    next_digest = scheduler.get_job("weekly-digest").next_run_time
    assert next_digest > now and next_digest.astimezone(world.hub.settings.tz).strftime("%a %H:%M") == "Mon 09:00"

    clockwork.stop(scheduler, wait=True)
    started(world.hub)  # and a restart after that repeats nothing
    time.sleep(0.5)
    assert runs(caplog, "nudge sweep") == 1 and runs(caplog, "weekly digest") == 1


def test_a_run_missed_beyond_its_grace_time_is_skipped(world, started, caplog):
    caplog.set_level(logging.INFO, logger="bot.scheduler")
    clockwork.stop(started(world.hub), wait=True)
    now = datetime.now(timezone.utc)
    set_next_runs(world, weekly_digest=now - timedelta(days=2))  # a digest two days late is not sent
    scheduler = started(world.hub)
    time.sleep(0.5)
    assert runs(caplog, "weekly digest") == 0 and world.digests("U0CEO") == []
    assert scheduler.get_job("weekly-digest").next_run_time > now


def test_serve_starts_the_scheduler_unless_told_not_to(tmp_path):
    from tests.test_cli import EXAMPLE, SECRET, clean_env, free_port, http

    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    jobs = {}
    for flags in ((), ("--no-scheduler",)):
        url = f"sqlite:///{tmp_path / f'hub{len(flags)}.db'}"
        upgrade(url)
        port = free_port()
        command = [sys.executable, "-m", "bot", "--config", str(config), "serve", "--http", "--host", "127.0.0.1", "--port", str(port), *flags]
        env = clean_env(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, DATABASE_URL=url, SLACK_API_URL="http://127.0.0.1:9/api/")
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: _healthy(http, port) or process.poll() is not None, timeout=30)
            assert process.poll() is None
            with create_engine(url).connect() as connection:
                stored = connection.execute(text("SELECT name FROM sqlite_master WHERE name = 'apscheduler_jobs'")).scalar()
                jobs[flags] = connection.execute(text("SELECT id FROM apscheduler_jobs ORDER BY id")).scalars().all() if stored else None
        finally:
            process.terminate()
            process.wait(timeout=15)
    assert jobs[()] == ["nudge-sweep", "weekly-digest"]
    assert jobs[("--no-scheduler",)] is None


def _healthy(http, port: int) -> bool:
    try:
        return http("GET", f"http://127.0.0.1:{port}/healthz")[0] == 200
    except OSError:
        return False
