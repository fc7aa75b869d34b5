"""GET /metrics after a story through signed requests against the emulator, read with
prometheus-client's own parser, on SQLite and Postgres."""

from __future__ import annotations

import urllib.request
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app.sweep import run_sweep
from bot.clock import FixedClock
from bot.metrics import Metrics
from bot.sandbox.harness import LocalHub, demo_settings
from tests.nudge_world import paris
from tests.scenario import steps


def scrape(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Each sample by name, then by its labels (sorted)."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


@pytest.fixture
def clock():
    return FixedClock(paris(2, 10))


@pytest.fixture
def hub(migrated_url, emulator, clock):
    with LocalHub(demo_settings(migrated_url), emulator, clock=clock, migrate=False) as running:
        yield running


def test_a_story_shows_in_the_metrics(hub, clock):
    before = scrape(hub.url)
    assert before["cdo_hub_messages_owed"] == {(("queue", "nudges"),): 0, (("queue", "outbox"),): 0}
    assert "cdo_hub_last_successful_sweep_timestamp_seconds" in before

    steps.propose(hub, functions=["marketing", "it"], sponsor="U0CEO")
    hub.command("help", user_id="U0CMO")  # one more command
    hub.emulator.fail("chat.postMessage", "channel_not_found", when=lambda args: args.get("channel") == "C0NOWHERE")
    hub.runtime.gateway.call("chat.postMessage", channel="C0NOWHERE", text="lost")

    clock.set(paris(9, 10))  # five working days of silence: the pair is nudged
    assert any(line.status == "sent" for line in run_sweep(hub.runtime).lines)

    after = scrape(hub.url)
    requests = after["cdo_hub_requests_total"]
    assert requests[(("kind", "command"), ("outcome", "ok"))] >= 1, requests
    assert requests[(("kind", "view"), ("outcome", "ok"))] >= 1  # the proposal's submission
    assert after["cdo_hub_ack_seconds_count"][(("kind", "command"),)] >= 1
    assert after["cdo_hub_ack_seconds_bucket"][(("kind", "command"), ("le", "3.0"))] >= 1  # acked within Slack's 3 s
    calls = after["cdo_hub_slack_calls_total"]
    assert calls[(("error", "ok"), ("method", "chat.postMessage"))] >= 2
    assert calls[(("error", "channel_not_found"), ("method", "chat.postMessage"))] == 1
    assert after["cdo_hub_nudges"][(("level", "1"), ("status", "sent"))] == 1
    assert after["cdo_hub_job_duration_seconds_count"][(("job", "sweep"),)] == 1
    assert after["cdo_hub_last_successful_sweep_timestamp_seconds"][()] > 0
    assert after["cdo_hub_messages_owed"][(("queue", "nudges"),)] == 0
    assert "cdo_hub_introductions" not in after  # the family exists, with no rows yet


def test_refused_requests_are_counted_and_nothing_else(hub):
    request = urllib.request.Request(hub.url + "/slack/events", data=b"token=x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    samples = scrape(hub.url)
    assert samples["cdo_hub_requests_total"] == {(("kind", "other"), ("outcome", "refused")): 1}


def test_owed_messages_are_shared_state_read_at_scrape_time(hub, clock):
    """Two hubs on one database (two replicas) report the same owed messages; each counts
    only its own requests."""
    steps.propose(hub, functions=["marketing", "it"], sponsor="U0CEO")
    clock.set(paris(9, 10))
    hub.emulator.rate_limit("chat.postMessage", times=50, retry_after=30)  # nothing gets through: all stays owed
    run_sweep(hub.runtime)
    with LocalHub(demo_settings(hub.settings.database_url), hub.emulator, clock=clock, migrate=False) as other:
        mine, theirs = scrape(hub.url), scrape(other.url)
        assert mine["cdo_hub_messages_owed"][(("queue", "nudges"),)] >= 1
        assert mine["cdo_hub_messages_owed"] == theirs["cdo_hub_messages_owed"]
        oldest = theirs["cdo_hub_messages_owed_oldest_timestamp_seconds"][(("queue", "nudges"),)]
        assert abs(oldest - paris(9, 10).timestamp()) < timedelta(minutes=1).total_seconds()
        assert "cdo_hub_requests_total" not in theirs  # no request reached the second replica


def test_each_metrics_has_its_own_registry():
    first, second = Metrics(), Metrics()
    first.request("command", "ok", 0.01)
    assert b'cdo_hub_requests_total{kind="command",outcome="ok"} 1.0' in first.exposition()
    assert b"cdo_hub_requests_total{" not in second.exposition()
