"""`cdo-hub` — the command line: serve, db, check-config, and the hub's batch commands."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from bot import __version__
from bot.app.port import InstallBroken
from bot.config import ConfigError, Settings, load
from bot.errors import EXIT_CONFIG, EXIT_FAILURE, CliError
from bot.logs import configure as configure_logging

if TYPE_CHECKING:
    from bot.app.hub import Hub
    from bot.app.sweep import SweepReport

log = logging.getLogger("bot")


# --- commands ------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.db import upgrade

    settings = _settings(args)
    with database_errors(settings.database_url):
        upgrade(settings.database_url)
    print(f"database at {_display_url(settings.database_url)} is up to date")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    from bot.app.checks import SlackUnreachable, check_workspace

    settings = _settings(args)
    print(f"{settings.source}: ok ({len(settings.functions)} functions: {', '.join(settings.functions)})")
    if not settings.slack.bot_token:
        print("no bot token (SLACK_BOT_TOKEN): channels and users were not checked against Slack")
        return 0
    if not args.verbose:  # every failure is said below, once; the log would say it again per attempt
        for name in ("bot.slack", "slack_sdk"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    hub = _impatient_runtime(settings)
    try:
        problems = check_workspace(hub)
    except SlackUnreachable as error:
        raise CliError(f"Slack did not answer at {_slack_url(settings)}: {error}") from None
    finally:
        hub.close()
    for problem in problems:
        print(f"problem: {problem}")
    if problems:
        return EXIT_FAILURE
    print("every channel and user exists, and the bot can post in every channel")
    return 0


CHECK_TIMEOUT = 5  # seconds per attempt: with one retry, check-config gives up on Slack within 15 s


def _impatient_runtime(settings: Settings) -> Hub:
    """The hub for check-config: short timeouts, one retry, and a stop at the first call Slack
    does not answer (instead of minutes of retries, once for every channel and user)."""
    from dataclasses import replace

    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

    from bot.app.checks import SlackUnreachable
    from bot.app.port import ErrorKind, Result
    from bot.runtime import build_runtime
    from bot.slack.directory import Directory
    from bot.slack.gateway import Gateway, make_client

    class Impatient(Gateway):
        def call(self, method: str, **params: Any) -> Result:
            result = super().call(method, **params)
            if result.kind is ErrorKind.TRANSIENT:
                raise SlackUnreachable((result.error or "").removeprefix("connection_error: "))
            return result

    client = make_client(settings.slack.bot_token, settings.slack.api_url, max_retries=1)
    client.timeout = CHECK_TIMEOUT
    for handler in client.retry_handlers:
        if isinstance(handler, ConnectionErrorRetryHandler):
            handler.max_retry_count = 1
    gateway = Impatient(client)
    return replace(build_runtime(settings, resolve_emails=False), gateway=gateway, directory=Directory(gateway))


def _slack_url(settings: Settings) -> str:
    from slack_sdk import WebClient

    return settings.slack.api_url or WebClient.BASE_URL


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.serve import serve

    settings = _settings(args)
    with database_errors(settings.database_url):
        return serve(
            settings,
            http=args.http,
            socket=args.socket,
            port=args.port,
            host=args.host,
            scheduler=not args.no_scheduler,
            health_port=args.health_port,
        )


def open_database(settings: Settings) -> Engine:
    """An engine on an up-to-date schema, or a one-line hint to run `cdo-hub db upgrade`."""
    from bot.db import make_engine, schema_status

    engine = make_engine(settings.database_url)
    with database_errors(settings.database_url):
        status = schema_status(engine)
    if not status.up_to_date:
        engine.dispose()
        raise CliError(
            f"the database schema at {_display_url(settings.database_url)} is at {status.current or 'no revision'}, "
            f"this version needs {status.head}: run `cdo-hub db upgrade` first"
        )
    return engine


def cmd_report(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.db import make_sessionmaker
    from bot.report_pictures import PICTURED, ReportError, produce, write_output
    from bot.reports import REPORTS, render

    settings = _settings(args)
    fmt = args.format or ("png" if args.subject == "matrix" else "table")
    if args.subject not in PICTURED and fmt == "png":
        raise CliError(f"report {args.subject} has no picture: choose --format table, csv or json", EXIT_CONFIG)
    if fmt == "png" and not args.output and sys.stdout.isatty():
        raise CliError("a picture is not for the terminal: add --output FILE (or redirect the output)", EXIT_CONFIG)
    engine = open_database(settings)
    try:
        with make_sessionmaker(engine)() as session:
            if args.subject in PICTURED:
                output = produce(session, settings, SystemClock().now(), args.subject, fmt, args.pair)
            else:
                output = render(REPORTS[args.subject](session, settings, SystemClock().now()), fmt)
    except ReportError as error:
        raise CliError(str(error), EXIT_CONFIG) from None
    finally:
        engine.dispose()
    try:
        write_output(output, args.output)
    except ReportError as error:
        raise CliError(str(error), EXIT_CONFIG) from None
    return 0


def _parse_at(text: str | None, settings: Settings) -> datetime | None:
    """--at: ISO-8601; a time without an offset is the hub's local time."""
    from datetime import datetime

    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--at {text!r} is not an ISO-8601 time (like 2026-03-09T09:30 or 2026-03-09T08:30:00Z)", EXIT_CONFIG) from None
    return at if at.tzinfo else at.replace(tzinfo=settings.tz)


def _batch_runtime(args: argparse.Namespace) -> Hub:
    """The hub for one sweep or digest "as of" --at, on an up-to-date schema."""
    from bot.clock import FixedClock
    from bot.runtime import build_runtime

    settings = _settings(args)
    at = _parse_at(args.at, settings)
    if not args.dry_run and not settings.slack.bot_token:
        raise CliError(
            "the bot token is not set (SLACK_BOT_TOKEN or [slack] bot_token), so nothing can be sent; --dry-run plans without sending",
            EXIT_CONFIG,
        )
    open_database(settings).dispose()
    return build_runtime(settings, clock=FixedClock(at) if at else None)


def _print_lines(report: SweepReport, fmt: str, settings: Settings) -> None:
    import json

    if fmt == "json":
        print(json.dumps([line.as_json() for line in report.lines], indent=2))
        return
    for line in report.lines:
        d = line.delivery
        pair = " × ".join(f.name for f in settings.functions.values() if f.key in d.functions)
        what = f"#{d.initiative_id} {pair}, level {d.level}" if d.kind != "digest" else "weekly digest"
        where = f"thread in {d.channel} for {', '.join(d.recipients)}" if d.kind == "pair" else f"DM to {d.channel}"
        detail = f" until {line.at.isoformat()}" if line.status == "deferred" and line.at else f" ({line.error})" if line.error else ""
        print(f"{line.status:<9} {what} → {where}{detail}")


def _finish(report: SweepReport, summary: str, *, json_output: bool = False) -> int:
    # With --format json, stdout stays one JSON document and the summary goes to stderr.
    print(summary + (" (dry run: nothing was sent or changed)" if report.dry_run else ""), file=sys.stderr if json_output else sys.stdout)
    if report.install_error:
        print(
            f"cdo-hub: Slack refused the bot token ({report.install_error}): check SLACK_BOT_TOKEN; "
            "what was claimed is kept for the next run",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return 0


def cmd_nudge(args: argparse.Namespace) -> int:
    from bot.app.sweep import run_sweep

    hub = _batch_runtime(args)
    try:
        report = run_sweep(hub, dry_run=args.dry_run)
    finally:
        hub.close()
    _print_lines(report, args.format, hub.settings)
    counts = ", ".join(
        f"{report.count(s)} {s}" for s in ("planned", "sent", "deferred", "cancelled", "failed") if report.count(s) or s == "sent"
    )
    if report.waiting:
        counts += f"; {report.waiting} message(s) wait for their channel's turn (the next sweep, or serve, sends them)"
    return _finish(
        report, f"nudge sweep as of {report.at.isoformat()}: {report.checked} pair(s) checked; {counts}", json_output=args.format == "json"
    )


def cmd_digest(args: argparse.Namespace) -> int:
    from bot.app.digest import run_digest
    from bot.core.digest import iso_week

    hub = _batch_runtime(args)
    try:
        report = run_digest(hub, dry_run=args.dry_run)
    finally:
        hub.close()
    _print_lines(report, "text", hub.settings)
    counts = ", ".join(
        f"{report.count(s)} {s}" for s in ("planned", "sent", "deferred", "already", "failed") if report.count(s) or s == "sent"
    )
    return _finish(report, f"weekly digest {iso_week(report.at, hub.settings)} as of {report.at.isoformat()}: {counts}")


def cmd_introduce(args: argparse.Namespace) -> int:
    """One introductions pass: the pairs of functions that never meet, introduced to each other."""
    import json

    from bot.app.introduce import run_introductions

    hub = _batch_runtime(args)
    try:
        report = run_introductions(hub, dry_run=args.dry_run)
    finally:
        hub.close()
    names = hub.settings.functions
    if args.format == "json":
        print(json.dumps([line.as_json() for line in report.lines], indent=2, ensure_ascii=False))
    else:
        for line in report.lines:
            pair = " × ".join(names[key].name if key in names else key for key in line.functions)
            detail = f" until {line.at.isoformat()}" if line.at else f" ({line.error})" if line.error else ""
            print(f"{line.status:<9} {pair}: “{line.idea}” → {', '.join(line.recipients)}{detail}")
    if not report.enabled:
        summary = "introductions are turned off ([introductions] enabled = false): nothing was done"
    else:
        counts = ", ".join(
            f"{report.count(s)} {s}" for s in ("planned", "sent", "deferred", "cancelled", "failed") if report.count(s) or s == "sent"
        )
        summary = f"introductions as of {report.at.isoformat()}: {counts}" + (
            " (dry run: nothing was sent or changed)" if report.dry_run else ""
        )
    print(summary, file=sys.stderr if args.format == "json" else sys.stdout)
    if report.install_error:
        print(
            f"cdo-hub: Slack refused the bot token ({report.install_error}): check SLACK_BOT_TOKEN; what was claimed is kept",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return 0


def cmd_privacy(args: argparse.Namespace) -> int:
    """`privacy export USER` prints everything held about the person as JSON; `privacy forget
    USER` removes or anonymises it (exit 1 while copies of their replies are left in Slack)."""
    import json

    from bot.app import privacy
    from bot.config import USER_ID
    from bot.runtime import build_runtime

    if not USER_ID.match(args.user):
        raise CliError(f"{args.user!r} is not a Slack user ID (like U0123ABCD)", EXIT_CONFIG)
    settings = _settings(args)
    open_database(settings).dispose()
    hub = build_runtime(settings)
    try:
        with database_errors(settings.database_url):
            if args.action == "export":
                print(json.dumps(privacy.export(hub, args.user), indent=2, ensure_ascii=False))
                return 0
            done = privacy.forget(hub, args.user)
    finally:
        hub.close()
    if not done.changed and not done.copies_left:
        print(f"nothing is held about {args.user} any more")
    for what, number in done.counts.items():
        print(f"{number} {what}")
    if done.copies_deleted:
        print(f"{done.copies_deleted} copies of their replies deleted from Slack")
    if done.roles:
        print(f"still in the configuration as {', '.join(done.roles)}: remove them from {settings.source} by hand", file=sys.stderr)
    if done.copies_left:
        why = "Slack refused" if settings.slack.bot_token else "no bot token is set (SLACK_BOT_TOKEN)"
        print(
            f"cdo-hub: {len(done.copies_left)} copies of their replies are still in Slack ({why}); "
            f"run `cdo-hub privacy forget {args.user}` again to delete them",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.sandbox.demo import run

    if not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)  # the story speaks for itself
    return run(args.database)


# --- plumbing ------------------------------------------------------------------------------


_SECRETS: list[str] = []  # of the loaded settings: kept out of every log line and error message


def _settings(args: argparse.Namespace) -> Settings:
    from bot.logs import protect, secrets_of

    settings = load(args.config)
    _SECRETS[:] = secrets_of(settings)
    protect(_SECRETS)
    return settings


def _said(error: object) -> str:
    from bot.logs import redact

    return redact(str(error), _SECRETS)


def _display_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """A database that cannot be reached, opened or read becomes one line naming it (without
    its password), instead of a traceback."""
    try:
        yield
    except DBAPIError as error:  # OperationalError, ProgrammingError…: the driver said why
        reason = str(error.orig or error).strip().splitlines()
        raise CliError(f"the database at {_display_url(url)} cannot be used: {reason[0] if reason else type(error).__name__}") from None
    except (ArgumentError, NoSuchModuleError) as error:
        raise CliError(f"the database URL cannot be used ([database] url or DATABASE_URL): {error}", EXIT_CONFIG) from None
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] in ("bot", "migrations"):
            raise  # a bug of ours, not a missing database driver
        raise CliError(f"the driver for the database at {_display_url(url)} is not installed: {error}", EXIT_CONFIG) from None


def _port(value: str) -> int:
    """A port, from the command line or $CDO_HUB_PORT (argparse converts a default given as text)."""
    if not value.strip().isdigit() or not 0 <= int(value) < 65536:
        raise argparse.ArgumentTypeError(f"must be a port number, not {value!r} (check --port, --health-port or CDO_HUB_PORT)")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdo-hub",
        description="CDO Hub: routes cross-functional initiatives to the functions that must "
        "collaborate, records their commitments and nudges the pairs that stall.",
    )
    parser.add_argument("--version", action="version", version=f"cdo-hub {__version__}")
    parser.add_argument("--config", metavar="PATH", help="TOML configuration (default: $CDO_HUB_CONFIG, else ./config.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="json: one object a line (time, level, logger, message, context)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the bot (Socket Mode with an app token, else HTTP)")
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument("--http", action="store_true", help="serve POST /slack/events and GET /healthz over HTTP")
    mode.add_argument("--socket", action="store_true", help="use Socket Mode (needs SLACK_APP_TOKEN)")
    port = os.environ.get("CDO_HUB_PORT") or None
    serve.add_argument("--port", type=_port, default=port or "3000", help="HTTP port (default $CDO_HUB_PORT, else 3000)")
    serve.add_argument(
        "--health-port",
        type=_port,
        default=port,
        metavar="N",
        help="Socket Mode: serve GET /healthz and GET /metrics on port N (default $CDO_HUB_PORT; none when unset)",
    )
    serve.add_argument("--host", default="0.0.0.0", help="HTTP address to listen on (default 0.0.0.0)")
    serve.add_argument("--no-scheduler", action="store_true", help="do not run the nudge sweep and the digest in this process")
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="migrate the database to the latest schema").set_defaults(func=cmd_db_upgrade)

    nudge = commands.add_parser("nudge", help="one nudge sweep over the pairs of functions (the scheduler runs the same)")
    nudge.add_argument("--at", metavar="ISO-8601", help="evaluate as of this time (without an offset: the hub's time zone)")
    nudge.add_argument("--dry-run", action="store_true", help="plan only: send nothing, change nothing")
    nudge.add_argument("--format", choices=("text", "json"), default="text", help="json: one object per message sent or planned")
    nudge.set_defaults(func=cmd_nudge)

    digest = commands.add_parser("digest", help="send this week's digest to executives and hub staff (once a week each)")
    digest.add_argument("--at", metavar="ISO-8601", help="as of this time (without an offset: the hub's time zone)")
    digest.add_argument("--dry-run", action="store_true", help="plan only: send nothing, change nothing")
    digest.set_defaults(func=cmd_digest)

    introduce = commands.add_parser("introduce", help="introduce the pairs of functions that never meet (the scheduler runs it daily)")
    introduce.add_argument("--at", metavar="ISO-8601", help="as of this time (without an offset: the hub's time zone)")
    introduce.add_argument("--dry-run", action="store_true", help="plan only: send nothing, change nothing")
    introduce.add_argument("--format", choices=("text", "json"), default="text", help="json: one object per introduction")
    introduce.set_defaults(func=cmd_introduce)

    report = commands.add_parser(
        "report", help="initiatives, pairs, commitments, obstacles, a couple's roadmap, or the matrix as a picture"
    )
    report.add_argument("subject", choices=("initiatives", "pairs", "commitments", "obstacles", "roadmap", "matrix"))
    report.add_argument("--format", choices=("table", "csv", "json", "png"), help="default: table (png for matrix)")
    report.add_argument("--pair", metavar="KEY,KEY", help="roadmap: the two functions")
    report.add_argument("--output", metavar="FILE", help="write the report to FILE instead of printing it")
    report.set_defaults(func=cmd_report)

    privacy = commands.add_parser("privacy", help="one person's data: export it as JSON, or erase it")
    privacy.add_argument("action", choices=("export", "forget"), help="export: print it; forget: remove or anonymise it")
    privacy.add_argument("user", metavar="USER", help="the person's Slack user ID")
    privacy.set_defaults(func=cmd_privacy)

    commands.add_parser("check-config", help="validate the configuration; with a token, check channels and users in Slack").set_defaults(
        func=cmd_check_config
    )

    demo = commands.add_parser("demo", help="run the whole story against the bundled local workspace emulator (no Slack account needed)")
    demo.add_argument("--database", metavar="URL", help="database to use (default: a fresh SQLite file in a temporary folder)")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_format, logging.DEBUG if args.verbose else logging.INFO)
    logging.getLogger("alembic").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        return args.func(args)
    except ConfigError as error:
        print(f"configuration error: {_said(error)}", file=sys.stderr)
        return EXIT_CONFIG
    except CliError as error:
        print(f"cdo-hub: {_said(error)}", file=sys.stderr)
        return error.code
    except InstallBroken as error:
        print(f"cdo-hub: Slack refused the bot token ({_said(error)}): check SLACK_BOT_TOKEN", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
