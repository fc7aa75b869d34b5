"""What the hub tells Prometheus (`GET /metrics`), one registry per hub.

Two kinds of figures:
- per replica, kept in memory (counters, histograms, the last successful sweep): each replica
  counts what it did itself, so summing over replicas counts nothing twice;
- shared state, read from the database at scrape time (messages owed, nudges by level and
  status): one cheap query each, so every replica sharing a database reports the same truth.

Introductions have one level (there is no escalation of an introduction): `level="1"`, by status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from bot.models import Introduction, Nudge, Outbox

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REQUEST_KINDS = ("command", "action", "view", "event", "options", "other")
ACK_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
JOB_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)


def request_kind(payload_type: str) -> str:
    """The kind of a Slack request as counted: command, action, view, event, options or other."""
    kinds = {
        "command": "command",
        "block_actions": "action",
        "interactive_message": "action",
        "shortcut": "action",
        "message_action": "action",
        "view_submission": "view",
        "view_closed": "view",
        "event_callback": "event",
        "block_suggestion": "options",
    }
    return kinds.get(payload_type, "other")


class Metrics:
    """The hub's figures. `database`: the engine the shared-state gauges read, set once the
    hub has one (a hub without it reports only what this process counted)."""

    def __init__(self, database: Engine | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "cdo_hub_requests", "Slack requests handled, by kind and outcome", ["kind", "outcome"], registry=self.registry
        )
        self.ack_seconds = Histogram(
            "cdo_hub_ack_seconds", "Time from a Slack request's arrival to its ack", ["kind"], buckets=ACK_BUCKETS, registry=self.registry
        )
        self.slack_calls = Counter(
            "cdo_hub_slack_calls", "Slack Web API calls, by method and error ('ok' when none)", ["method", "error"], registry=self.registry
        )
        self.job_seconds = Histogram(
            "cdo_hub_job_duration_seconds", "Duration of a sweep or a digest run", ["job"], buckets=JOB_BUCKETS, registry=self.registry
        )
        self.last_sweep = Gauge(
            "cdo_hub_last_successful_sweep_timestamp_seconds",
            "When this replica last finished a sweep that Slack did not stop (Unix time)",
            registry=self.registry,
        )
        self.database = database
        self.registry.register(SharedState(lambda: self.database))

    def request(self, kind: str, outcome: str, seconds: float | None = None) -> None:
        self.requests.labels(kind, outcome).inc()
        if seconds is not None:
            self.ack_seconds.labels(kind).observe(seconds)

    def slack_call(self, method: str, error: str | None) -> None:
        self.slack_calls.labels(method, error or "ok").inc()

    @contextmanager
    def job(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.job_seconds.labels(name).observe(time.monotonic() - started)

    def sweep_succeeded(self, at: float | None = None) -> None:
        self.last_sweep.set(time.time() if at is None else at)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class SharedState(Collector):
    """Gauges read from the database when scraped; a database that fails is logged and the
    scrape answers with what this process counted."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self._engine = engine

    def describe(self) -> Iterable[Metric]:
        return []  # computed at scrape time; nothing to check at registration

    def collect(self) -> Iterable[Metric]:
        engine = self._engine()
        if engine is None:
            return []
        owed = GaugeMetricFamily("cdo_hub_messages_owed", "Messages owed and not yet delivered, by queue (shared state)", labels=["queue"])
        oldest = GaugeMetricFamily(
            "cdo_hub_messages_owed_oldest_timestamp_seconds",
            "When the oldest message still owed was recorded, by queue (Unix time; shared state)",
            labels=["queue"],
        )
        nudges = GaugeMetricFamily("cdo_hub_nudges", "Nudges by level and status (shared state)", labels=["level", "status"])
        introductions = GaugeMetricFamily(
            "cdo_hub_introductions", "Introductions by level and status (shared state)", labels=["level", "status"]
        )
        try:
            with engine.connect() as connection:
                queues = {
                    "outbox": select(func.count(), func.min(Outbox.created_at)).where(Outbox.status == "pending"),
                    "nudges": select(func.count(), func.min(Nudge.claimed_at)).where(Nudge.status == "claimed"),
                }
                for queue, query in queues.items():
                    count, first = connection.execute(query).one()
                    owed.add_metric([queue], count)
                    if first is not None:
                        oldest.add_metric([queue], _timestamp(first))
                for level, status, count in connection.execute(
                    select(Nudge.level, Nudge.status, func.count()).group_by(Nudge.level, Nudge.status)
                ):
                    nudges.add_metric([str(level), status], count)
                for status, count in connection.execute(select(Introduction.status, func.count()).group_by(Introduction.status)):
                    introductions.add_metric(["1", status], count)
        except Exception as error:  # a scrape must answer even when the database does not
            log.warning("metrics: the database could not be read for the shared-state gauges: %s", type(error).__name__)
            return []
        return [owed, oldest, nudges, introductions]


def _timestamp(value: object) -> float:
    from datetime import UTC, datetime

    if isinstance(value, str):  # SQLite hands back text for an aggregate over a typed column
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return 0.0
