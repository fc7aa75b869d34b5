"""The nudge sweep, the same from `cdo-hub nudge`, the scheduler and a nudge button.

A sweep (`run_sweep`) runs in two steps:
1. plan and claim, a batch of due pairs per transaction (bot.core.nudges, bot.core.nudge_claims);
2. a sending pass over what is claimed and due (bot/app/delivery.py): one message per place
   (all the pair nudges of an initiative in its thread; one DM per person), paced per channel,
   no database lock held while Slack is called. What gets no turn in the pass stays claimed
   for the next one.
A Slack error for one target is recorded on its nudge and the sweep goes on; a broken install
(InstallBroken) stops the sweep and leaves the claims for a later one. One bad row never stops
a sweep: a pair that cannot be planned is skipped (bot.core.nudges), and a message that raises
is logged, counted as a failed attempt of its nudges and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.orm import Session

from bot.app.delivery import SEND_SECONDS, deliver
from bot.app.hub import Hub
from bot.app.people import ZoneBook
from bot.app.port import InstallBroken
from bot.app.sweep_report import Line, SweepReport
from bot.core import nudge_claims as claims
from bot.core import nudges
from bot.db import transaction
from bot.models import Nudge

__all__ = ["Line", "SweepReport", "deliver", "run_sweep"]

log = logging.getLogger(__name__)

BUTTON_SECONDS = 2.0


@contextmanager
def _unit(hub: Hub, dry_run: bool) -> Iterator[Session]:
    """A transaction, or for a dry run a session whose changes are all rolled back."""
    if not dry_run:
        with transaction(hub.sessions) as session:
            yield session
        return
    with hub.sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


def run_sweep(hub: Hub, *, dry_run: bool = False, pair_ids: Sequence[int] | None = None) -> SweepReport:
    """One sweep as of `hub.clock.now()`; `pair_ids` limits it to those pairs (a button).
    A whole sweep is timed, and when Slack did not stop it, noted as the last successful one."""
    if dry_run or pair_ids is not None:
        return _sweep(hub, dry_run, pair_ids)
    with hub.metrics.job("sweep"):
        report = _sweep(hub, dry_run, pair_ids)
    if report.install_error is None:
        hub.metrics.sweep_succeeded()
    return report


def _sweep(hub: Hub, dry_run: bool, pair_ids: Sequence[int] | None) -> SweepReport:
    now = hub.clock.now()
    report = SweepReport(now, dry_run)
    people = ZoneBook(hub, now, store=not dry_run)
    try:
        with hub.sessions() as session:
            people.warm(nudges.people_to_know(session, hub.settings, now))
        after = None
        while True:
            with _unit(hub, dry_run) as session:
                batch = nudges.plan_batch(
                    session,
                    hub.settings,
                    now,
                    people,
                    after=after,
                    pair_ids=pair_ids,
                    dry_run=dry_run,
                    fatal=(InstallBroken,),
                )
                planned = batch.deliveries if dry_run else claims.claim(session, batch.deliveries, now)
            report.checked += batch.checked
            for delivery in planned:
                if delivery.not_before > now:
                    report.lines.append(Line("deferred", delivery, delivery.not_before))
                elif dry_run:
                    report.lines.append(Line("planned", delivery))
            if batch.last is None:
                break
            after = batch.last
        if dry_run:
            with hub.sessions() as session:
                for item in claims.pending(session, now, pair_ids=pair_ids):
                    row = session.get(Nudge, item.id)
                    if row is not None:
                        report.lines.append(Line("planned", claims.delivery_of(row)))
        else:
            # A button's sweep is waited for by the person who clicked: a short pass, the rest later.
            deliver(hub, now, people, report, pair_ids=pair_ids, seconds=SEND_SECONDS if pair_ids is None else BUTTON_SECONDS)
    except InstallBroken as error:
        report.install_error = str(error)
        log.error("the sweep stopped: Slack refused the bot token (%s); claimed nudges wait for a later sweep", error)
    return report
