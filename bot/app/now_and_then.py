"""Housekeeping that runs at most once in a while per database and process, whatever the number
of jobs and requests that ask for it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta


class NowAndThen:
    """`due(key, now)` says yes at most once per `every` for each key (a database URL);
    `again(key)` makes the next call say yes, for work that left more to do."""

    def __init__(self, every: timedelta) -> None:
        self.every = every
        self._last: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def due(self, key: str, now: datetime) -> bool:
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.every:
                return False
            self._last[key] = now
            return True

    def again(self, key: str) -> None:
        with self._lock:
            self._last.pop(key, None)
