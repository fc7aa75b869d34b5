"""The composition root: settings, database, the Slack port (gateway, directory, renderer)
and the clock, assembled in one place so that `serve`, the CLI commands, the demo and the
tests run the same hub. Nothing imports this module but the entry points."""

from __future__ import annotations

from bot.app import emails
from bot.app.emails import EmailBook
from bot.app.hub import Hub
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import make_engine, make_sessionmaker
from bot.metrics import Metrics
from bot.slack.directory import Directory
from bot.slack.gateway import Gateway, make_client
from bot.slack.pacing import Pacer
from bot.slack.render import BlockKit

Runtime = Hub  # what the entry points call the assembled hub


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, max_retries: int = 5, pacer: Pacer | None = None, resolve_emails: bool = True
) -> Hub:
    """`pacer`: when each channel may take its next message; by default Slack's pace from the
    settings, on the real clock (tests give one on a clock of their own). People the settings
    name by email are looked up in Slack here, once: the hub sees member IDs only
    (`resolve_emails=False` leaves them, for check-config, which reports on them itself)."""
    engine = make_engine(settings.database_url)
    client = make_client(settings.slack.bot_token, settings.slack.api_url, max_retries=max_retries)
    metrics = Metrics(engine)
    gateway = Gateway(client, pacer=pacer or Pacer(settings.slack.channel_rate, settings.slack.channel_burst), metrics=metrics)
    if resolve_emails:
        settings = emails.resolve(settings, EmailBook(gateway))
    return Hub(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        gateway=gateway,
        directory=Directory(gateway),
        render=BlockKit(),
        clock=clock or SystemClock(),
        metrics=metrics,
    )
