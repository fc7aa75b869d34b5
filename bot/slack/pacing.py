"""Pacing per channel: Slack takes about one message a second in a channel (short bursts are
tolerated, then it answers 429 with Retry-After). The hub keeps to that itself instead of
learning it from 429s, and a channel that is busy, or told to wait, holds up no other.

`Pacer` keeps, per channel, when its next message may go (a token bucket written as GCRA: one
number per channel). It is shared by everything the process posts: the outbox's posts are
noted after the fact, a sending pass (`Turns`) asks for turns before it posts. Time is a
monotonic clock and a sleeper, both injected, so that tests pace without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from bot.app.port import Blocks, ErrorKind, Result

CHANNEL_RATE = 1.0  # messages a second in one channel: Slack's own limit for chat.postMessage
CHANNEL_BURST = 3  # messages a channel may take at once after a quiet while
RATELIMITED = "ratelimited"
_FORGET_AFTER = 1000  # channels remembered before the rested ones are forgotten


class Pacer:
    """When each channel may take its next message. Thread-safe."""

    def __init__(
        self,
        rate: float = CHANNEL_RATE,
        burst: int = CHANNEL_BURST,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a pacer needs a positive rate and a burst of at least one")
        self.rate, self.burst = rate, burst
        self.now, self.sleep = monotonic, sleep
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._due: dict[str, float] = {}  # per channel, GCRA's theoretical arrival time
        self._lock = threading.Lock()

    def free_at(self, channel: str) -> float:
        """When the channel may take its next message (now, or later)."""
        with self._lock:
            return self._free_at(channel, self.now())

    def take(self, channel: str, *, by: float) -> float | None:
        """Reserve the channel's next turn if it comes by `by`: when it comes, else None."""
        with self._lock:
            now = self.now()
            slot = self._free_at(channel, now)
            if slot > by:
                return None
            self._spend(channel, slot)
            return slot

    def note(self, channel: str) -> None:
        """A message went into the channel without a turn (the outbox): it counts all the same."""
        with self._lock:
            self._spend(channel, self.now())

    def hold(self, channel: str, seconds: float) -> None:
        """Slack said 429: nothing more into this channel for `seconds`, then one at a time."""
        with self._lock:
            until = self.now() + max(seconds, 0.0)
            self._due[channel] = max(self._due.get(channel, until), until + self._tolerance)

    def wait_until(self, moment: float) -> None:
        delay = moment - self.now()
        if delay > 0:
            self.sleep(delay)

    def _free_at(self, channel: str, now: float) -> float:
        due = self._due.get(channel)
        return now if due is None else max(now, due - self._tolerance)

    def _spend(self, channel: str, at: float) -> None:
        self._due[channel] = max(self._due.get(channel, at), at) + self._interval
        if len(self._due) > _FORGET_AFTER:  # rested channels are as good as unknown ones
            self._due = {key: due for key, due in self._due.items() if due > at}


PostOnce = Callable[..., Result]  # chat.postMessage, a 429 answered rather than waited out


class Turns:
    """One sending pass of at most `seconds`: which channel goes next, and its post.

    `next` names the first channel, in the order given, whose turn has come, waiting for the
    soonest when none has; a channel whose turn would come after the pass is left for the
    next one. `post` takes that turn and posts; a 429 makes the channel sit out its Retry-After
    (and only that channel) and is answered as `ratelimited`, never waited out here.
    """

    def __init__(self, pacer: Pacer, post_once: PostOnce, seconds: float) -> None:
        self.pacer, self._post_once = pacer, post_once
        self.until = pacer.now() + seconds

    def next(self, channels: Sequence[str]) -> str | None:
        if not channels:
            return None
        now = self.pacer.now()
        soonest, at = channels[0], float("inf")
        for channel in channels:
            free = self.pacer.free_at(channel)
            if free <= now:
                return channel
            if free < at:
                soonest, at = channel, free
        if at > self.until:
            return None
        self.pacer.wait_until(at)
        return soonest

    def post(
        self, channel: str, text: str, blocks: Blocks | None = None, *, thread_ts: str | None = None, keys: Sequence[str] = ()
    ) -> Result:
        slot = self.pacer.take(channel, by=self.until)
        if slot is None:  # another sender of this process took the last turn of the pass
            wait = self.pacer.free_at(channel) - self.pacer.now()
            return Result(False, {}, RATELIMITED, ErrorKind.TRANSIENT, retry_after=wait)
        self.pacer.wait_until(slot)
        result = self._post_once(channel, text, blocks, thread_ts=thread_ts, keys=keys)
        if not result.ok and result.error == RATELIMITED:  # at least a second: Slack's Retry-After is whole seconds
            self.pacer.hold(channel, max(result.retry_after or 0.0, 1.0))
        return result


def retry_after_of(headers: Any) -> float | None:
    """Seconds from a response's Retry-After header, whatever the case of its name."""
    if not isinstance(headers, dict):
        return None
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            first = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return max(float(first), 0.0)
            except (TypeError, ValueError):
                return None
    return None
