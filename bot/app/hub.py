"""What every use case is handed: settings, the database, the Slack port and the clock.

`bot.runtime` builds one (the composition root); tests and the demo build theirs the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.app.batches import Batches
from bot.app.coalesce import Coalescer
from bot.app.port import DirectoryPort, Renderer, SlackPort
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.metrics import Metrics


@dataclass
class Hub:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    gateway: SlackPort
    directory: DirectoryPort
    render: Renderer
    clock: Clock = field(default_factory=SystemClock)
    metrics: Metrics = field(default_factory=Metrics)
    homes: Coalescer = field(default_factory=Coalescer)  # Home tabs being published (bot.app.home)
    batches: Batches = field(default_factory=Batches)  # writes done together (bot.app.discuss.receive)

    def __post_init__(self) -> None:
        if self.metrics.database is None:
            self.metrics.database = self.engine  # the shared-state gauges read this hub's database

    def close(self) -> None:
        self.engine.dispose()
