"""Introductions: the pairs of functions that never meet, each introduced to the other in a
group DM to their leads with one starter idea. Knows nothing of Slack: plans, claims, answers.

- Which pairs: those `bot.core.digest.pair_rows` calls never-met (no joint initiative within
  `[digest] never_met_days`), the one definition the digest and the reports use too.
- Tact: a pair is left alone `[introductions] quiet_days` after it was introduced or said
  "Not now"; a person gets at most one introduction a week; the message waits for a moment
  that is working time for every recipient (`WorkWeek.next_common`, their own zones).
- Exactly once: an introduction is claimed under its key (`intro:hr:marketing:2`, the pair's
  second) with INSERT … ON CONFLICT DO NOTHING, and a pass first takes a lock that makes two
  passes at once (two replicas) run one after the other, so the second sees the first's claims.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from bot.config import IdeaConfig, Settings
from bot.core import digest
from bot.core.calendar import WEEK, WorkWeek
from bot.core.ideas import ideas_for, next_idea
from bot.core.pairs import ordered_pair
from bot.db import insert_for, rowcount
from bot.models import Introduction

CLAIMED, SENT, FAILED, CANCELLED = "claimed", "sent", "failed", "cancelled"  # Introduction.status
NOT_NOW, PROPOSED = "not_now", "proposed"  # Introduction.answer
PASS_LOCK = 0x1A7D0  # the Postgres advisory lock one pass holds until it commits


@dataclass(frozen=True)
class Planned:
    key: str
    functions: tuple[str, str]
    recipients: tuple[str, ...]
    idea: IdeaConfig
    last_met_at: datetime | None
    not_before: datetime


def serialize(session: Session) -> None:
    """Make passes run one at a time: taken first in a pass's transaction, held until it ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PASS_LOCK})
    else:  # a write that changes nothing takes SQLite's write lock before anything is read
        session.execute(update(Introduction).where(Introduction.id == -1).values(status=Introduction.status))


def recipients_of(settings: Settings, functions: tuple[str, str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(lead for key in functions for lead in settings.functions[key].leads))


def quiet_until(introduction: Introduction, settings: Settings) -> datetime:
    last = max(introduction.claimed_at, introduction.answered_at or introduction.claimed_at)
    return last + timedelta(days=settings.introductions.quiet_days)


def plan(
    session: Session, settings: Settings, now: datetime, zone_of: Callable[[str], ZoneInfo], reachable: Callable[[str], bool]
) -> list[Planned]:
    """The introductions this pass owes, the longest-separated pairs first."""
    history: dict[tuple[str, str], list[Introduction]] = {}
    busy: set[str] = set()
    for introduction in session.scalars(select(Introduction).order_by(Introduction.id)):
        history.setdefault(introduction.functions, []).append(introduction)
        if introduction.status != CANCELLED and introduction.claimed_at > now - WEEK:
            busy.update(introduction.recipients or ())
    week = WorkWeek.of(settings.nudges)
    rows = [row for row in digest.pair_rows(session, settings, now) if row.state == digest.NEVER_MET]
    rows.sort(key=lambda row: (row.last_joint_activity_at is not None, row.last_joint_activity_at or now, ordered_pair(*row.functions)))
    planned = []
    for row in rows:
        pair = ordered_pair(*row.functions)
        earlier = history.get(pair, [])
        if earlier and quiet_until(earlier[-1], settings) > now:
            continue
        people = tuple(user for user in recipients_of(settings, pair) if reachable(user))
        if not people or busy.intersection(people):
            continue
        idea = next_idea(ideas_for(settings, pair), earlier[-1].idea_title if earlier else None)
        a, b = pair
        not_before = week.next_common(now, [zone_of(user) for user in people])
        planned.append(Planned(f"intro:{a}:{b}:{len(earlier) + 1}", pair, people, idea, row.last_joint_activity_at, not_before))
        busy.update(people)
    return planned


def claim(session: Session, planned: Planned, now: datetime) -> Introduction | None:
    """Record the introduction under its key; None when another pass claimed it first."""
    statement = (
        insert_for(session)(Introduction)
        .values(
            key=planned.key,
            function_a=planned.functions[0],
            function_b=planned.functions[1],
            idea_title=planned.idea.title,
            idea_problem=planned.idea.problem,
            idea_journey=planned.idea.journey,
            recipients=list(planned.recipients),
            last_met_at=planned.last_met_at,
            status=CLAIMED,
            claimed_at=now,
            not_before=planned.not_before,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Introduction.id)
    )
    found = session.execute(statement).first()
    return session.get(Introduction, found[0]) if found is not None else None


# --- the buttons ---------------------------------------------------------------------------


class Answer(str, Enum):
    DONE = "done"
    NOT_FOUND = "not_found"
    REFUSED = "refused"  # not one of the two leads, hub staff or an admin
    FUNCTION_GONE = "function_gone"  # one of the two functions is no longer configured
    ALREADY_PROPOSED = "already_proposed"
    ALREADY_NOT_NOW = "already_not_now"


def may_answer(user: str, introduction: Introduction, settings: Settings) -> bool:
    """The two functions' leads (then or now), hub staff and admins."""
    leads = {lead for key in introduction.functions if key in settings.functions for lead in settings.functions[key].leads}
    leads.update(introduction.recipients or ())
    return user in leads or settings.is_staff(user) or settings.is_admin(user)


def check(session: Session, settings: Settings, introduction_id: int, user: str) -> tuple[Answer, Introduction | None]:
    """Whether `user` may answer this introduction now (before a form opens, or a Not now)."""
    introduction = session.get(Introduction, introduction_id)
    if introduction is None:
        return Answer.NOT_FOUND, None
    if not may_answer(user, introduction, settings):
        return Answer.REFUSED, introduction
    if any(key not in settings.functions for key in introduction.functions):
        return Answer.FUNCTION_GONE, introduction
    if introduction.initiative_id is not None or introduction.answer == PROPOSED:
        return Answer.ALREADY_PROPOSED, introduction
    return Answer.DONE, introduction


def not_now(session: Session, settings: Settings, introduction_id: int, user: str, now: datetime) -> tuple[Answer, Introduction | None]:
    """Leave the pair alone for `quiet_days` from now (a conditional UPDATE: a double click counts once)."""
    answer, introduction = check(session, settings, introduction_id, user)
    if answer not in (Answer.DONE, Answer.FUNCTION_GONE):
        return answer, introduction
    changed = session.execute(
        update(Introduction)
        .where(Introduction.id == introduction_id, Introduction.answer.is_(None))
        .values(answer=NOT_NOW, answered_by=user, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(changed) != 1:
        return Answer.ALREADY_NOT_NOW, introduction
    return Answer.DONE, introduction


def link(session: Session, introduction_id: int, initiative_id: int, user: str, now: datetime) -> bool:
    """Record that the introduction became this initiative; False when it already became one."""
    changed = session.execute(
        update(Introduction)
        .where(Introduction.id == introduction_id, Introduction.initiative_id.is_(None), Introduction.answer.is_distinct_from(PROPOSED))
        .values(initiative_id=initiative_id, answer=PROPOSED, answered_by=user, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(changed) == 1


# --- what the digest and the reports say -----------------------------------------------------


@dataclass(frozen=True)
class Week:
    """The introductions of the week before `at`: made, answered "Not now", became initiatives."""

    introduced: tuple[tuple[str, str], ...]
    not_now: tuple[tuple[str, str], ...]
    proposed: tuple[tuple[tuple[str, str], int], ...]  # the pair and its initiative


def week(session: Session, now: datetime) -> Week:
    since = now - WEEK
    rows = list(session.scalars(select(Introduction).order_by(Introduction.id)))
    return Week(
        introduced=tuple(r.functions for r in rows if r.status == SENT and r.sent_at is not None and since <= r.sent_at <= now),
        not_now=tuple(r.functions for r in rows if r.answer == NOT_NOW and r.answered_at is not None and since <= r.answered_at <= now),
        proposed=tuple(
            (r.functions, r.initiative_id)
            for r in rows
            if r.answer == PROPOSED and r.initiative_id is not None and r.answered_at is not None and since <= r.answered_at <= now
        ),
    )


def latest_by_pair(session: Session) -> dict[tuple[str, str], dict[str, Any]]:
    """`report pairs`' `introduced_at` and `introduction` (the idea's title): the last one sent."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in session.scalars(select(Introduction).where(Introduction.status == SENT).order_by(Introduction.id)):
        found[row.functions] = {"introduced_at": row.sent_at.isoformat() if row.sent_at else None, "introduction": row.idea_title}
    return found
