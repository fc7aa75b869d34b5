"""The pacer and a sending pass's turns, on fake seconds: a burst, then one a second per
channel; a 429 holds one channel; a pass ends when no turn comes before its end."""

from __future__ import annotations

import pytest

from bot.app.port import ErrorKind, Result
from bot.config import ConfigError, parse
from bot.sandbox.harness import DEMO_CONFIG
from bot.slack.pacing import Pacer, Turns, retry_after_of
from tests.nudge_world import FakeTime


def test_a_burst_then_one_a_second_per_channel():
    time = FakeTime()
    pacer = time.pacer(rate=1.0, burst=3)
    start = time()
    slots = [pacer.take("C0HUB", by=start + 60) for _ in range(6)]
    assert [slot - start for slot in slots if slot is not None] == [0, 0, 0, 1, 2, 3]
    assert pacer.free_at("D0OTHER") == start  # another channel is not held up
    assert pacer.take("C0HUB", by=start + 3.5) is None  # its next turn (at 4 s) is after the deadline
    time.advance(60)
    assert pacer.free_at("C0HUB") == time()  # rested: a burst again


def test_posts_made_without_a_turn_count_and_a_429_holds_one_channel():
    time = FakeTime()
    pacer = time.pacer(rate=2.0, burst=1)
    start = time()
    pacer.note("C0HUB")  # the outbox posted
    assert pacer.free_at("C0HUB") == start + 0.5
    pacer.hold("C0IT", 30)
    assert pacer.free_at("C0IT") == start + 30 and pacer.free_at("C0HR") == start
    assert pacer.take("C0IT", by=start + 60) == start + 30
    assert pacer.free_at("C0IT") == start + 30.5  # after a 429, no burst: one at a time


def test_a_pacer_needs_a_rate_and_a_burst():
    with pytest.raises(ValueError):
        Pacer(0, 3)
    with pytest.raises(ValueError):
        Pacer(1, 0)


class Posts:
    """What a pass posted, when (on the fake seconds), answering 429 where told."""

    def __init__(self, time: FakeTime, limited: dict[str, float] | None = None) -> None:
        self.time, self.limited, self.made = time, dict(limited or {}), []

    def __call__(self, channel, text, blocks=None, *, thread_ts=None, keys=()):
        self.made.append((channel, self.time() - self.start))
        if channel in self.limited:
            return Result(False, {}, "ratelimited", ErrorKind.TRANSIENT, retry_after=self.limited.pop(channel))
        return Result(True, {"ts": "1.0"})


def run_pass(turns: Turns, posts: Posts, queues: dict[str, int]) -> None:
    """The loop of bot.app.delivery.deliver, over counts of messages per channel."""
    order = list(queues)
    while order:
        channel = turns.next(order)
        if channel is None:
            return
        if turns.post(channel, "x").ok:
            queues[channel] -= 1
        order.remove(channel)
        if queues[channel]:
            order.append(channel)


def test_a_pass_interleaves_channels_so_a_busy_one_holds_up_none():
    time = FakeTime()
    posts = Posts(time)
    turns = Turns(time.pacer(rate=1.0, burst=2), posts, seconds=5)
    posts.start = time()
    queues = {"C0HUB": 20, "U0CEO": 1, "U0CHRO": 1}
    run_pass(turns, posts, queues)
    assert ("U0CEO", 0) in posts.made and ("U0CHRO", 0) in posts.made
    assert [at for channel, at in posts.made if channel == "C0HUB"] == [0, 0, 1, 2, 3, 4, 5]
    assert queues == {"C0HUB": 13, "U0CEO": 0, "U0CHRO": 0}  # the rest waits for the next pass


def test_a_429_sends_its_channel_out_for_retry_after_and_the_others_go_on():
    time = FakeTime()
    posts = Posts(time, limited={"C0HUB": 3})
    turns = Turns(time.pacer(rate=1.0, burst=3), posts, seconds=10)
    posts.start = time()
    queues = {"C0HUB": 2, "U0CEO": 1}
    run_pass(turns, posts, queues)
    assert posts.made == [("C0HUB", 0), ("U0CEO", 0), ("C0HUB", 3), ("C0HUB", 4)]
    assert time.slept == [3, 1]


def test_retry_after_is_read_whatever_its_case():
    assert retry_after_of({"Retry-After": "7"}) == 7.0
    assert retry_after_of({"retry-after": ["2"]}) == 2.0
    assert retry_after_of({"Content-Type": "json"}) is None and retry_after_of(None) is None


def test_the_pace_is_configured_under_slack():
    base = DEMO_CONFIG.read_text(encoding="utf-8")
    assert (parse(base).slack.channel_rate, parse(base).slack.channel_burst) == (1.0, 3)
    paced = parse(base.replace('command = "/cdo"', 'command = "/cdo"\nchannel_rate = 0.5\nchannel_burst = 1'))
    assert (paced.slack.channel_rate, paced.slack.channel_burst) == (0.5, 1)
    with pytest.raises(ConfigError, match=r"slack\.channel_rate: must be a number of messages a second"):
        parse(base.replace('command = "/cdo"', 'command = "/cdo"\nchannel_rate = 0'))
    with pytest.raises(ConfigError, match=r"slack\.channel_burst: must be at least 1"):
        parse(base.replace('command = "/cdo"', 'command = "/cdo"\nchannel_burst = 0'))
