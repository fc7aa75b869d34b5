"""The weekly digest: once a week to each executive and hub staff member, in their working hours.

The matrix picture follows each digest's text (bot/app/digest_picture.py).
It goes through the sweep's outbox: each recipient's digest is claimed under
`digest:{ISO week}:{user}`, so a second run, another replica or a restart sends it once.
A recipient whose digest cannot be planned or sent is logged and skipped; the others get theirs.
"""

from __future__ import annotations

import logging

from bot.app import outbox
from bot.app.digest_picture import owe_picture
from bot.app.hub import Hub
from bot.app.people import ZoneBook
from bot.app.port import InstallBroken
from bot.app.sweep import Line, SweepReport, deliver
from bot.core import digest as digests
from bot.core import nudge_claims as claims
from bot.core import schedule
from bot.core.calendar import WorkWeek
from bot.core.nudge_claims import Delivery
from bot.db import transaction

log = logging.getLogger(__name__)


def run_digest(hub: Hub, *, dry_run: bool = False) -> SweepReport:
    """This week's digest for each executive and hub staff member, once a week each.

    Each DM waits for its recipient's working hours (a later sweep sends it then).
    """
    if dry_run:
        return _digest(hub, dry_run)
    with hub.metrics.job("digest"):
        return _digest(hub, dry_run)


def _digest(hub: Hub, dry_run: bool) -> SweepReport:
    settings = hub.settings
    now = hub.clock.now()
    report = SweepReport(now, dry_run)
    recipients = schedule.digest_recipients(settings)
    people = ZoneBook(hub, now, store=not dry_run)
    try:
        people.warm(recipients)
        with hub.sessions() as session:
            digest = digests.build(session, settings, now)
        text, blocks = hub.render.digest(digest, settings)
        week = WorkWeek.of(settings.nudges)
        planned = []
        for user in recipients:
            try:
                if people.reachable(user):
                    planned.append(
                        Delivery(
                            key=schedule.digest_key(digest.week, user),
                            kind=claims.DIGEST,
                            level=0,
                            channel=user,
                            recipients=(user,),
                            not_before=week.next_working(now, people.zone(user)),
                            payload={"week": digest.week, "text": text, "blocks": blocks},
                        )
                    )
            except InstallBroken:
                raise
            except Exception:  # one recipient, not the others
                log.exception("the digest for %s could not be planned; skipped", user)
        if dry_run:
            report.lines += [Line("planned" if d.not_before <= now else "deferred", d, d.not_before) for d in planned]
            return report
        with transaction(hub.sessions) as session:
            claimed = claims.claim(session, planned, now)
            # Recorded as of when its digest may go out: its day of retries starts there.
            pictures = [key for d in claimed for key in owe_picture(session, digest, d.channel, d.key, max(now, d.not_before))]
        report.lines += [Line("already", d) for d in planned if d not in claimed]
        report.lines += [Line("deferred", d, d.not_before) for d in claimed if d.not_before > now]
        deliver(hub, now, people, report, kinds=(claims.DIGEST,))
        if pictures:  # those whose text went out now; the others follow theirs (serve's upkeep)
            outbox.drain(hub, keys=pictures)
    except InstallBroken as error:
        report.install_error = str(error)
        log.error("the digest stopped: Slack refused the bot token (%s)", error)
    return report
