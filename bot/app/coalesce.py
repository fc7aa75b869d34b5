"""One piece of work per key at a time, done again once if asked for meanwhile.

A person's Home tab is read and published after each change that concerns them. Ten changes
in a second would read and publish it ten times, each time showing nearly the same thing. With
`Coalescer.run`, the first caller does the work; a caller that comes while it runs only asks
for one more round, and the first caller does that round once it is done, reading what is
there by then. So the last change is always shown, and a burst costs two rounds, not one per
change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable


class Coalescer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[Hashable, bool] = {}  # key -> asked again while running

    def run(self, key: Hashable, work: Callable[[], None]) -> bool:
        """Do `work` for `key` now, or leave it to the caller already doing it; False then."""
        with self._lock:
            if key in self._running:
                self._running[key] = True
                return False
            self._running[key] = False
        try:
            while True:
                work()
                with self._lock:  # decided and forgotten at once: a caller coming now runs it
                    if not self._running[key]:
                        del self._running[key]
                        return True
                    self._running[key] = False
        except BaseException:
            with self._lock:
                self._running.pop(key, None)
            raise
