"""Calls held by the test: carried out and answered late (a caller that dies after Slack took
its call), or held first and then refused (a caller that dies before Slack had it)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from bot.sandbox.emulator.records import Args
from bot.sandbox.emulator.validation import parse_args


class Hold:
    """A call held after it was carried out (see `Emulator.hold`)."""

    def __init__(self, method: str, when: Callable[[Args], bool] | None, before: bool = False) -> None:
        self.method, self.when, self.before = method, when, before
        self.reached = threading.Event()  # set when the call was carried out and is held
        self.release = threading.Event()


class HoldingCalls:
    """The holds of an emulator (a mixin of `Emulator`)."""

    _lock: threading.RLock
    _holds: list[Hold]
    _every_hold: list[Hold]

    def hold(self, method: str, *, when: Callable[[Args], bool] | None = None, before: bool = False) -> Hold:
        """The next matching call is carried out, then its answer waits until `release()`:
        what a caller sees when it dies, or times out, after Slack accepted the call. With
        `before`, the call waits first and is then refused (503): Slack never had it."""
        hold = Hold(method, when, before)
        with self._lock:
            self._holds.append(hold)
            self._every_hold.append(hold)
        return hold

    def _take_hold(self, method: str, args: Args, *, before: bool) -> Hold | None:
        with self._lock:
            for hold in self._holds:
                if hold.method == method and hold.before == before and (hold.when is None or hold.when(args)):
                    self._holds.remove(hold)
                    return hold
        return None


def peek_args(query: str, headers: Mapping[str, str], body: bytes) -> Args:
    """The arguments of a call, for matching a hold before the call is carried out."""
    try:
        return parse_args(query, headers.get("Content-Type", ""), body)
    except Exception:
        return {}
