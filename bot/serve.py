"""`cdo-hub serve`: check the schema, build the app, and run it over HTTP or Socket Mode."""

from __future__ import annotations

import ctypes
import gc
import logging
import sys
import threading
from collections.abc import Callable

from slack_bolt import App
from sqlalchemy import Engine

from bot.app.digest import run_digest
from bot.app.hub import Hub
from bot.app.introduce import run_introductions
from bot.app.sweep import run_sweep
from bot.app.upkeep import upkeep
from bot.config import Settings
from bot.db import schema_status, upgrade
from bot.errors import EXIT_CONFIG, CliError
from bot.runtime import build_runtime
from bot.scheduler import start as start_scheduler
from bot.scheduler import stop as stop_scheduler
from bot.slack.app import HubApp, create_app
from bot.slack.listeners.safely import Turns
from bot.slack.web import OperatorServer, create_web_app

log = logging.getLogger(__name__)

# How long a thread keeps the interpreter while another waits for it (Python's default: 5 ms).
# An answer to Slack waits for it at each step while work after earlier answers runs: a short
# turn keeps answers quick under load, at a small cost to that work.
SWITCH_INTERVAL = 0.0005

MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """glibc gives threads that allocate at once their own heaps (up to eight per core), and
    each keeps what was freed in it: with the listener threads of a busy hub that doubles its
    resident memory for nothing. Two heaps are enough here (the interpreter runs one thread
    at a time). Elsewhere than glibc there is no such call, and nothing to do."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))


def freeze_what_was_built() -> None:
    """What the process built to start (modules, the app, its settings: ~100,000 objects) lives
    as long as it does: moved out of the garbage collector's sight. A full collection runs now
    and then while the work after answers makes and drops objects, and holds every thread,
    answers included, while it goes through all of them: 40-52 ms at 1,000 initiatives before,
    12-21 ms after (served, 400 clicks and forms). Objects made later are collected as usual."""
    gc.collect()
    gc.freeze()


# Python starts a full collection (every generation) after this many collections of the middle
# one; so does `QuietCollector`, at a moment of its choosing.
FULL_AFTER = 10
CHECK_EVERY = 1.0  # seconds between two looks at whether a full collection is due
NEVER = 2**31 - 1  # the largest threshold Python takes
STOP_WITHIN = 1.0  # seconds a stopping serve waits for the collector's thread


class QuietCollector:
    """Full collections, taken out of the interpreter's hands and run in a thread of their own,
    with a turn at the work after answers (`Turns`): after a burst of answers, not in its
    middle. Python starts one when it allocates, in whichever thread, answers included, and
    holds every thread until it is done (at 1,000 initiatives, served, 600 requests of each of
    four kinds 10 at a time: 3 to 5 of 10 full collections ran while requests were being
    answered, 24-48 ms each; with this, none of 9). Younger generations are still collected by
    Python as it goes (about a millisecond each).

    A full collection is due once FULL_AFTER collections of the middle generation have run, as
    Python's own would be, except that Python also puts one off while few objects have lived
    through the younger collections since the last: this may collect more often, never less.
    It comes up to CHECK_EVERY later, once the work after answers ahead of it has had its turn
    (and, under answers that never stop, after GIVE_WAY)."""

    def __init__(self, turns: Turns, *, every: float = CHECK_EVERY, due: Callable[[], bool] | None = None) -> None:
        self.turns, self.every = turns, every
        self.due = due or (lambda: gc.get_count()[2] >= FULL_AFTER)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="full-collections", daemon=True)
        self._thresholds = gc.get_threshold()

    def start(self) -> QuietCollector:
        self._thread.start()
        young, middle, _full = self._thresholds
        gc.set_threshold(young, middle, NEVER)  # Python starts no full collection
        return self

    def stop(self) -> None:
        """Python's thresholds back; the thread ends without another collection, or is left
        behind (a daemon) if it still waits for its turn after STOP_WITHIN."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(STOP_WITHIN)
        gc.set_threshold(*self._thresholds)

    def _run(self) -> None:
        while not self._stopped.wait(self.every):
            if not self.due():
                continue
            self.turns.take()
            try:
                if not self._stopped.is_set():
                    gc.collect()
            finally:
                self.turns.give_back()


def ensure_schema(engine: Engine, url: str) -> None:
    """Refuse an outdated schema; a fresh SQLite file is created instead."""
    status = schema_status(engine)
    if status.up_to_date:
        return
    if engine.dialect.name == "sqlite" and status.empty:
        log.info("creating a fresh SQLite database")
        upgrade(url)
        return
    raise CliError(
        f"the database schema is at {status.current or 'no revision'} but this version needs {status.head}: run `cdo-hub db upgrade` first"
    )


def _require(value: str | None, what: str) -> str:
    if not value:
        raise CliError(f"{what} is not set", EXIT_CONFIG)
    return value


def serve(
    settings: Settings, *, http: bool, socket: bool, port: int, host: str, scheduler: bool = True, health_port: int | None = None
) -> int:
    """`health_port`: in Socket Mode, where /healthz and /metrics are served (none when None)."""
    _require(settings.slack.bot_token, "the bot token (SLACK_BOT_TOKEN or [slack] bot_token)")
    use_socket = socket or (bool(settings.slack.app_token) and not http)
    if use_socket:
        _require(settings.slack.app_token, "the app-level token for Socket Mode (SLACK_APP_TOKEN)")
    else:
        _require(settings.slack.signing_secret, "the signing secret (SLACK_SIGNING_SECRET or [slack] signing_secret)")
    hub = build_runtime(settings)
    ensure_schema(hub.engine, settings.database_url)
    sys.setswitchinterval(SWITCH_INTERVAL)
    limit_malloc_arenas()
    app = create_app(hub)
    freeze_what_was_built()
    collector = QuietCollector(app.turns)
    jobs = None
    try:
        collector.start()
        if scheduler:
            jobs = start_scheduler(
                hub,
                sweep=lambda: run_sweep(hub),
                digest=lambda: run_digest(hub),
                deliver=lambda: upkeep(hub),
                introduce=lambda: run_introductions(hub),
            )
        if use_socket:
            if health_port is not None:
                serve_operator_routes(hub, host=host, port=health_port)
            run_socket_mode(app, settings.slack.app_token or "")
        else:
            run_http(app, hub, host=host, port=port)
    finally:
        if jobs is not None:
            stop_scheduler(jobs)
        collector.stop()
        hub.close()
    return 0


def run_http(app: HubApp, hub: Hub, *, host: str, port: int) -> None:
    import uvicorn

    log.info("serving Slack requests on http://%s:%d/slack/events", host, port)
    # log_config=None: uvicorn's lines go through the hub's handler (its format, its redaction).
    uvicorn.run(create_web_app(app, hub), host=host, port=port, log_level="info", access_log=False, log_config=None)


def serve_operator_routes(hub: Hub, *, host: str, port: int) -> OperatorServer:
    """/healthz and /metrics on `port`, in a thread beside Socket Mode's connection."""
    server = OperatorServer(hub, host=host, port=port).start()
    log.info("serving /healthz and /metrics on http://%s:%d", host, server.port)
    return server


def run_socket_mode(app: App, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    log.info("connecting to Slack in Socket Mode")
    SocketModeHandler(app, app_token).start()  # type: ignore[no-untyped-call]
