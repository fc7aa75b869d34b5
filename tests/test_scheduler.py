"""The scheduler inside `serve`: one in-memory job per process that sweeps and, when this week's
digest is due by the hub's own claims, sends it; restarts and replicas send it once."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time as clock
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, inspect

from bot import scheduler as clockwork
from bot.app.digest import run_digest
from bot.app.sweep import SweepReport, run_sweep
from bot.core.schedule import digest_due
from bot.runtime import Runtime
from tests.nudge_world import World, paris, runtime_for


@pytest.fixture
def world(migrated_url, emulator):
    running = World(migrated_url, emulator)
    running.clock.set(paris(16, 9))  # Monday: the demo's digest is due at 09:00 in Paris
    yield running
    running.close()


class Ticks:
    """Schedulers started by a test, each with a way to wait for its first tick (at start)."""

    def __init__(self) -> None:
        self.running: list[BackgroundScheduler] = []
        self.errors: list[JobExecutionEvent] = []

    def launch(self, scheduler: BackgroundScheduler) -> threading.Event:
        ticked = threading.Event()

        def done(event: JobExecutionEvent) -> None:
            if event.exception is not None:
                self.errors.append(event)
            ticked.set()

        scheduler.add_listener(done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start()
        self.running.append(scheduler)
        return ticked

    def wait(self, *ticked: threading.Event) -> None:
        for event in ticked:
            assert event.wait(timeout=60), "a scheduler did not tick at start"
        assert not self.errors, self.errors

    def start(self, hub: Runtime, **jobs) -> BackgroundScheduler:
        """A scheduler with the real use cases (unless given others), after its first tick."""
        jobs = {"sweep": lambda: run_sweep(hub), "digest": lambda: run_digest(hub), **jobs}
        scheduler = clockwork.build(hub, **jobs)
        self.wait(self.launch(scheduler))
        return scheduler

    def stop(self) -> None:
        for scheduler in self.running:
            clockwork.stop(scheduler, wait=True)


@pytest.fixture
def ticks():
    running = Ticks()
    yield running
    running.stop()


def due(world: World, at: datetime, hub: Runtime | None = None) -> bool:
    hub = hub or world.hub
    with hub.sessions() as session:
        return digest_due(session, hub.settings, at)


def digest_rows(world: World) -> list[str]:
    return sorted(row.key for row in world.nudge_rows() if row.kind == "digest")


def counted(calls: Counter, name: str, job):
    def run():
        calls[name] += 1
        return job()

    return run


# --- the job -----------------------------------------------------------------------------------


def test_one_job_in_memory_runs_at_start_then_every_interval(world, ticks):
    before = datetime.now(UTC)
    scheduler = clockwork.build(world.hub, sweep=lambda: run_sweep(world.hub), digest=lambda: run_digest(world.hub))
    [job] = scheduler.get_jobs()
    assert job.trigger.interval == timedelta(minutes=15)
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
    assert job.next_run_time <= datetime.now(UTC)  # due at once

    ticks.wait(ticks.launch(scheduler))
    assert scheduler.get_job(clockwork.TICK_JOB).next_run_time >= before + timedelta(minutes=15)
    assert "apscheduler_jobs" not in inspect(world.hub.engine).get_table_names()
    assert len(world.digests("U0CEO")) == 1 and len(world.digests("U0CDO")) == 1


def test_the_interval_is_the_configured_one(migrated_url, emulator):
    faster = World(migrated_url, emulator, nudges={"sweep_every_minutes": 5})
    try:
        [job] = clockwork.build(faster.hub, sweep=lambda: None, digest=lambda: None).get_jobs()
        assert job.trigger.interval == timedelta(minutes=5)
    finally:
        faster.close()


def test_the_scheduler_imports_nothing_from_the_slack_edge():
    names = "import sys, bot.scheduler; print(sorted(m for m in sys.modules if m.startswith('bot.slack')))"
    loaded = subprocess.run([sys.executable, "-c", names], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


# --- when the digest is due --------------------------------------------------------------------


def test_the_digest_is_due_from_its_moment_until_claimed(world):
    assert not due(world, paris(16, 8, 59))
    assert due(world, paris(16, 9))
    # The moment is in the hub's time zone: 09:00 in Paris is 08:00 UTC in March.
    assert not due(world, datetime(2026, 3, 16, 7, 59, tzinfo=UTC))
    assert due(world, datetime(2026, 3, 16, 8, 0, tzinfo=UTC))

    world.digest(paris(16, 9))
    assert digest_rows(world) == ["digest:2026-W12:U0CDO", "digest:2026-W12:U0CEO"]
    assert not due(world, paris(16, 9, 15))
    assert not due(world, paris(22, 23, 59))  # Sunday: still this week's
    assert not due(world, paris(23, 8, 59))
    assert due(world, paris(23, 9))  # next Monday


def test_the_configured_day_and_time_are_the_moment(world):
    settings = world.hub.settings
    sunday = replace(settings, digest=replace(settings.digest, day="sun", time=time(17, 30)))
    with world.hub.sessions() as session:
        assert not digest_due(session, sunday, paris(16, 9))  # Monday: this week's is yet to come
        assert not digest_due(session, sunday, paris(22, 17, 29))
        assert digest_due(session, sunday, paris(22, 17, 30))


def test_a_partly_claimed_digest_is_due_until_everyone_has_it(world, migrated_url, emulator):
    # A replica configured without hub staff sent this week's digest to the CEO alone.
    earlier = World(migrated_url, emulator, hub={"staff": ()})
    try:
        earlier.digest(paris(16, 9))
    finally:
        earlier.close()
    assert digest_rows(world) == ["digest:2026-W12:U0CEO"]
    assert due(world, paris(16, 10))

    world.clock.set(paris(16, 10))
    clockwork.tick(world.hub, sweep=lambda: None, digest=lambda: run_digest(world.hub))
    assert len(world.digests("U0CEO")) == 1 and len(world.digests("U0CDO")) == 1
    assert not due(world, paris(16, 10))


def test_recipients_slack_reports_gone_do_not_keep_it_due(world):
    world.emulator.workspace.users["U0CEO"].deleted = True
    calls: Counter = Counter()
    digest = counted(calls, "digest", lambda: run_digest(world.hub))
    clockwork.tick(world.hub, sweep=lambda: None, digest=digest)
    assert world.digests("U0CEO") == [] and len(world.digests("U0CDO")) == 1
    assert not due(world, paris(16, 9, 15))
    world.clock.set(paris(16, 9, 15))
    clockwork.tick(world.hub, sweep=lambda: None, digest=digest)
    assert calls["digest"] == 1


# --- the tick ----------------------------------------------------------------------------------


def test_a_tick_sweeps_every_time_and_runs_the_digest_only_when_due(world):
    initiative = world.propose(paris(2, 10))
    calls: Counter = Counter()
    jobs = {
        "sweep": counted(calls, "sweep", lambda: run_sweep(world.hub)),
        "digest": counted(calls, "digest", lambda: run_digest(world.hub)),
    }

    for at, sweeps, digests in ((paris(16, 8, 45), 1, 0), (paris(16, 9), 2, 1), (paris(16, 9, 15), 3, 1), (paris(20, 17), 4, 1)):
        world.clock.set(at)
        clockwork.tick(world.hub, **jobs)
        assert (calls["sweep"], calls["digest"]) == (sweeps, digests), at
    assert len(world.pair_nudges(initiative)) == 1  # the sweep ran for real
    assert len(world.digests("U0CEO")) == 1 and len(world.digests("U0CDO")) == 1


def test_a_failing_sweep_does_not_hold_up_the_digest(world, caplog):
    def broken():
        raise RuntimeError("the sweep broke")

    clockwork.tick(world.hub, sweep=broken, digest=lambda: run_digest(world.hub))
    assert len(world.digests("U0CEO")) == 1
    [failure] = [record for record in caplog.records if record.name == "bot.scheduler" and record.exc_info]
    assert "nudge sweep failed" in failure.getMessage() and "the sweep broke" in str(failure.exc_info[1])


# --- restarts and replicas ---------------------------------------------------------------------


def test_a_restart_after_the_moment_sends_the_digest_once(world, ticks):
    world.clock.set(paris(16, 11))  # the hub was down at 09:00
    first = ticks.start(world.hub)
    assert len(world.digests("U0CEO")) == 1 and len(world.digests("U0CDO")) == 1
    clockwork.stop(first, wait=True)

    restarted = world.another_process()
    try:
        calls: Counter = Counter()
        ticks.start(restarted, digest=counted(calls, "digest", lambda: run_digest(restarted)))
        assert calls["digest"] == 0  # nothing is due: the claims say so
    finally:
        ticks.stop()
        restarted.close()
    assert len(world.digests("U0CEO")) == 1 and len(world.digests("U0CDO")) == 1
    assert digest_rows(world) == ["digest:2026-W12:U0CDO", "digest:2026-W12:U0CEO"]


def test_two_replicas_with_different_settings_send_the_digest_once(world, ticks):
    hubs = [world.another_process(), runtime_for(world.url, world.emulator, world.clock, nudges={"sweep_every_minutes": 5})]
    together = threading.Barrier(len(hubs))  # both ticks reach the digest check at the same time
    reports: list[SweepReport] = []

    def replica(hub: Runtime) -> BackgroundScheduler:
        def sweep():
            together.wait(timeout=30)
            return run_sweep(hub)

        def digest():
            reports.append(run_digest(hub))

        return clockwork.build(hub, sweep=sweep, digest=digest)

    try:
        started = [(scheduler, ticks.launch(scheduler)) for scheduler in map(replica, hubs)]
        ticks.wait(*(ticked for _, ticked in started))
        # Each keeps its own schedule: neither overwrote the other's.
        assert [s.get_job(clockwork.TICK_JOB).trigger.interval for s, _ in started] == [timedelta(minutes=15), timedelta(minutes=5)]
    finally:
        ticks.stop()
        for hub in hubs:
            hub.close()
    assert sum(report.count("sent") for report in reports) == 2  # however many of them ran it
    assert len(world.digests("U0CEO")) == 1 and len(world.digests("U0CDO")) == 1
    assert digest_rows(world) == ["digest:2026-W12:U0CDO", "digest:2026-W12:U0CEO"]
    assert all(row.status == "sent" for row in world.nudge_rows())


# --- inside `serve` ----------------------------------------------------------------------------


def test_serve_starts_the_scheduler_unless_told_not_to(tmp_path, sqlite_template):
    from tests.test_cli import EXAMPLE, SECRET, clean_env, free_port, http

    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    logs, tables = {}, {}
    for flags in ((), ("--no-scheduler",)):
        shutil.copyfile(sqlite_template, tmp_path / f"hub{len(flags)}.db")
        url = f"sqlite:///{tmp_path / f'hub{len(flags)}.db'}"
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(config),
            "serve",
            "--http",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *flags,
        ]
        env = clean_env(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, DATABASE_URL=url, SLACK_API_URL="http://127.0.0.1:9/api/")
        log = tmp_path / f"serve{len(flags)}.log"
        with log.open("w") as stderr:
            process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            # The scheduler starts before the server answers, and its tick starts at once.
            def up(port=port, flags=flags, log=log, process=process) -> bool:
                started = flags or 'Running job "nudge sweep and weekly digest' in log.read_text()
                return bool(_healthy(http, port) and started) or process.poll() is not None

            wait_for(up)
            assert process.poll() is None, log.read_text()
            logs[flags] = log.read_text()
            engine = create_engine(url)
            tables[flags] = set(inspect(engine).get_table_names())
            engine.dispose()
        finally:
            process.terminate()
            process.wait(timeout=15)
    assert "scheduler started" in logs[()] and "scheduler started" not in logs[("--no-scheduler",)]
    assert all("apscheduler_jobs" not in names for names in tables.values())


def wait_for(condition, timeout: float = 30.0) -> None:
    """Poll another process until `condition` holds (its log and /healthz are all we can see)."""
    deadline = clock.monotonic() + timeout
    while not condition():
        if clock.monotonic() > deadline:
            raise AssertionError("timed out")
        clock.sleep(0.05)


def _healthy(http, port: int) -> bool:
    try:
        return http("GET", f"http://127.0.0.1:{port}/healthz")[0] == 200
    except OSError:
        return False


def test_introductions_run_daily_unless_turned_off(migrated_url, emulator):
    on = World(migrated_url, emulator)
    try:
        scheduler = clockwork.build(on.hub, sweep=lambda: None, digest=lambda: None, introduce=lambda: None)
        assert scheduler.get_job(clockwork.INTRODUCTIONS_JOB).trigger.interval == timedelta(days=1)
    finally:
        on.close()
    off = World(migrated_url, emulator, introductions={"enabled": False})
    try:
        scheduler = clockwork.build(off.hub, sweep=lambda: None, digest=lambda: None, introduce=lambda: None)
        assert scheduler.get_job(clockwork.INTRODUCTIONS_JOB) is None
    finally:
        off.close()
