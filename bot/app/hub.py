"""What every use case is handed: settings, the database, the Slack port and the clock.

`bot.runtime` builds one (the composition root); tests and the demo build theirs the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.app.port import DirectoryPort, Renderer, SlackPort
from bot.clock import Clock, SystemClock
from bot.config import Settings


@dataclass
class Hub:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    gateway: SlackPort
    directory: DirectoryPort
    render: Renderer
    clock: Clock = field(default_factory=SystemClock)

    def close(self) -> None:
        self.engine.dispose()
