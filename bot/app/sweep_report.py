"""What a sweep, a digest run or a sending pass did, nudge by nudge (for the CLI, the logs and
the answers to nudge buttons)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.nudge_claims import Delivery


@dataclass(frozen=True)
class Line:
    """One nudge sent, planned, deferred, cancelled or failed."""

    status: str
    delivery: Delivery
    at: datetime | None = None  # sent at, or deferred until
    ts: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        d = self.delivery
        return {
            "initiative_id": d.initiative_id,
            "functions": list(d.functions),
            "level": d.level,
            "recipients": list(d.recipients),
            "channel": d.channel,
            "kind": d.kind,
            "status": self.status,
            "at": self.at.isoformat() if self.at else None,
            "ts": self.ts,
            "error": self.error,
            "key": d.key,
        }


@dataclass
class SweepReport:
    at: datetime
    dry_run: bool = False
    checked: int = 0
    lines: list[Line] = field(default_factory=list)
    install_error: str | None = None
    waiting: int = 0  # messages due whose channel had no turn left in this pass: the next one sends them

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)
