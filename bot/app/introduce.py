"""The introductions pass (`cdo-hub introduce` and the scheduler's daily job) and the answers
to an introduction's buttons.

A pass plans and claims the introductions in one transaction (bot.core.introductions), records
each message in the outbox in that same transaction, then sends what is due now; what waits
for the recipients' working hours is sent by `serve` when that moment comes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import outbox
from bot.app.hub import Hub
from bot.app.introduction_message import introduction_key, owe_introduction
from bot.app.people import ZoneBook
from bot.core import introductions as intros
from bot.db import transaction
from bot.models import Introduction, Outbox


@dataclass(frozen=True)
class IntroLine:
    """One introduction of a pass: `sent`, `planned` (a dry run), `deferred` or `failed`."""

    functions: tuple[str, str]
    recipients: tuple[str, ...]
    channel: str | None
    idea: str
    status: str
    at: datetime | None = None  # deferred until
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "functions": list(self.functions),
            "recipients": list(self.recipients),
            "channel": self.channel,
            "idea": self.idea,
            "status": self.status,
            "at": self.at.isoformat() if self.at else None,
            "error": self.error,
        }


@dataclass
class IntroReport:
    at: datetime
    dry_run: bool = False
    enabled: bool = True
    lines: list[IntroLine] = field(default_factory=list)
    install_error: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)


def run_introductions(hub: Hub, *, dry_run: bool = False) -> IntroReport:
    """One pass as of `hub.clock.now()`."""
    now = hub.clock.now()
    report = IntroReport(now, dry_run, hub.settings.introductions.enabled)
    if not report.enabled:
        return report
    people = ZoneBook(hub, now, store=not dry_run)
    people.warm(lead for function in hub.settings.functions.values() for lead in function.leads)
    if dry_run:
        with hub.sessions() as session:
            for planned in intros.plan(session, hub.settings, now, people.zone, people.reachable):
                report.lines.append(IntroLine(planned.functions, planned.recipients, None, planned.idea.title, "planned"))
            session.rollback()
        return report
    claimed: list[int] = []
    with transaction(hub.sessions) as session:
        intros.serialize(session)
        for planned in intros.plan(session, hub.settings, now, people.zone, people.reachable):
            introduction = intros.claim(session, planned, now)
            if introduction is not None:
                owe_introduction(session, introduction, now)
                claimed.append(introduction.id)
    drained = outbox.drain(hub, keys=[introduction_key(i) for i in claimed])
    report.install_error = drained.install_error
    with hub.sessions() as session:
        for introduction_id in claimed:
            introduction = session.get(Introduction, introduction_id)
            assert introduction is not None
            report.lines.append(_line(session, introduction))
    return report


def _line(session: Session, introduction: Introduction) -> IntroLine:
    status = {intros.SENT: "sent", intros.FAILED: "failed", intros.CANCELLED: "cancelled"}.get(introduction.status, "deferred")
    row = session.scalar(select(Outbox).where(Outbox.key == introduction_key(introduction.id)))
    error = row.error if row is not None and status == "failed" else None
    at = row.next_attempt_at if row is not None and status == "deferred" else None
    recipients = tuple(introduction.recipients or ())
    return IntroLine(introduction.functions, recipients, introduction.channel, introduction.idea_title, status, at, error)


# --- the buttons ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """What the proposal form is prefilled with, for an introduction a person may answer."""

    introduction: int
    title: str
    problem: str
    journey: str
    functions: tuple[str, str]


def not_now(hub: Hub, user: str, introduction_id: int) -> tuple[intros.Answer, Introduction | None]:
    with transaction(hub.sessions) as session:
        return intros.not_now(session, hub.settings, introduction_id, user, hub.clock.now())


def proposal_for(hub: Hub, user: str, introduction_id: int) -> tuple[intros.Answer, Proposal | None, Introduction | None]:
    with hub.sessions() as session:
        answer, introduction = intros.check(session, hub.settings, introduction_id, user)
    if answer is not intros.Answer.DONE or introduction is None:
        return answer, None, introduction
    proposal = Proposal(
        introduction.id, introduction.idea_title, introduction.idea_problem, introduction.idea_journey, introduction.functions
    )
    return answer, proposal, introduction
