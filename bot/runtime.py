"""What a running hub holds: settings, database, Slack gateway and clock, built in one place
so that `serve`, the CLI commands, the demo and the tests assemble the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import make_engine, make_sessionmaker
from bot.slack.directory import Directory
from bot.slack.gateway import Gateway, make_client


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    gateway: Gateway
    directory: Directory
    clock: Clock = field(default_factory=SystemClock)

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings, *, clock: Clock | None = None, max_retries: int = 5) -> Runtime:
    engine = make_engine(settings.database_url)
    client = make_client(settings.slack.bot_token, settings.slack.api_url, max_retries=max_retries)
    gateway = Gateway(client)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        gateway=gateway,
        directory=Directory(gateway),
        clock=clock or SystemClock(),
    )
