"""What `serve` does every few seconds besides answering Slack: handle the events that were
kept but not handled, send what the outbox still owes, send the nudges claimed and due that
earlier passes had no turn for (a backlog goes out pass after pass, at each channel's pace),
once a day learn the workspace's people, and once an hour remove what is older than the
retention of people's data. Each part is shared safely between replicas (claims and leases in
the database; pruning twice at once removes nothing twice)."""

from __future__ import annotations

import contextlib
import logging

from bot.app import discuss, outbox, privacy
from bot.app.delivery import send_due
from bot.app.hub import Hub
from bot.app.people import sync_users
from bot.app.port import InstallBroken

log = logging.getLogger(__name__)


def upkeep(hub: Hub) -> outbox.DrainReport:
    handled = discuss.catch_up(hub)
    if handled:
        log.info("handled %d kept events whose first handler did not finish", handled)
    report = outbox.drain(hub)
    if report.sent or report.failed:
        log.info("outbox: %d sent, %d failed, %d to retry", len(report.sent), len(report.failed), len(report.retrying))
    if report.install_error is None:
        nudged = send_due(hub)
        if nudged.lines or nudged.waiting:
            counts = ", ".join(f"{nudged.count(status)} {status}" for status in ("sent", "deferred", "failed"))
            log.info("nudges: %s; %d messages wait for their channel's turn", counts, nudged.waiting)
    with contextlib.suppress(InstallBroken):  # logged by the gateway; /healthz says it
        sync_users(hub)
    privacy.prune_now_and_then(hub)
    return report
