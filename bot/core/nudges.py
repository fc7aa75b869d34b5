"""The nudge sweep: which pairs are due and what each deserves. Nothing here talks to Slack:
the sweep returns deliveries, which the caller claims (bot.core.nudge_claims) in the same
transaction, and the sender (bot/app/sweep.py) posts.

Exactly once:
- A sweep reads only pairs whose `next_check_at` has come (an index), in batches, locking them
  with FOR UPDATE SKIP LOCKED on Postgres, so concurrent sweeps share the work; on SQLite,
  which has one writer, sweeps take turns.
- Every delivery is claimed under a unique key naming the pair, its round, its level and the
  recipient, in the transaction that moves the pair on (bot.core.nudge_claims).

One bad row never stops a sweep: each pair is decided under its own savepoint, and a pair that
fails is logged with its ID, rolled back alone and looked at again later; the batch goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Dialect, Table, TextClause, and_, bindparam, or_, select, text, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import health, rules
from bot.core.calendar import WorkWeek
from bot.core.health import Health
from bot.core.nudge_claims import CANCELLED, CLAIMED, EXECUTIVE, PAIR, Delivery, not_in_flight, pair_key
from bot.db import among
from bot.models import Commitment, Initiative, Nudge, Pair

log = logging.getLogger(__name__)

BATCH = 500
SNOOZE = timedelta(days=7)
CAP_WINDOW = timedelta(days=7)
# Pairs that time alone will not change (escalated, closed) are looked at again weekly anyway;
# activity re-checks a pair at once.
RECHECK = timedelta(days=7)
# A pair that could not be decided is tried again this much later (and at once after any
# activity on it), so a bad row is logged hourly rather than on every sweep.
RETRY_FAILED = timedelta(hours=1)


class People(Protocol):
    """What the sweep needs to know about a person (from users.info, cached by the caller)."""

    def zone(self, user_id: str) -> ZoneInfo: ...

    def reachable(self, user_id: str) -> bool: ...


def leads_of(settings: Settings, functions: Iterable[str]) -> list[str]:
    """The leads of these functions, in the configuration's order."""
    wanted = set(functions)
    return list(dict.fromkeys(lead for function in settings.functions.values() if function.key in wanted for lead in function.leads))


# --- the sweep -----------------------------------------------------------------------------


@dataclass
class Batch:
    deliveries: list[Delivery]
    checked: int
    last: tuple[datetime, int] | None  # where the next batch starts (keyset), None when done


def plan_batch(
    session: Session,
    settings: Settings,
    now: datetime,
    people: People,
    *,
    after: tuple[datetime, int] | None = None,
    pair_ids: Sequence[int] | None = None,
    limit: int = BATCH,
    dry_run: bool = False,
    fatal: tuple[type[Exception], ...] = (),
) -> Batch:
    """Assess the next `limit` due pairs, move them on, and say what to send.

    Pairs locked by another sweep are skipped (it is handling them). The caller claims the
    deliveries in the same transaction, then commits. A dry run (rolled back by the caller)
    takes no row locks, so it never holds up a real sweep on Postgres, and does not write the
    batch's decisions only to roll them back.

    Each pair is decided under a savepoint: one that raises is logged, rolled back alone and
    tried again after RETRY_FAILED, and the others are decided as usual. Errors of the kinds in
    `fatal` (a broken Slack install, say) are nobody's row: they stop the batch.
    """
    _begin_for_savepoints(session)
    query = select(Pair).where(Pair.next_check_at <= now)
    if after is not None:
        query = query.where(or_(Pair.next_check_at > after[0], and_(Pair.next_check_at == after[0], Pair.id > after[1])))
    if pair_ids is not None:
        query = query.where(among(session, Pair.id, pair_ids))
    query = query.order_by(Pair.next_check_at, Pair.id).limit(limit)
    due = list(session.scalars(query if dry_run else query.with_for_update(skip_locked=True)))
    if not due:
        return Batch([], 0, None)
    last_checked = due[-1].next_check_at
    assert last_checked is not None  # read because it is due
    last = (last_checked, due[-1].id)
    initiative_ids = {pair.initiative_id for pair in due}
    # What deciding reads: the initiatives, and of their commitments those that can stall a pair
    # (read apart, so that no initiative holds a partial collection of its commitments).
    by_id = {
        initiative.id: initiative for initiative in session.scalars(select(Initiative).where(among(session, Initiative.id, initiative_ids)))
    }
    stalling: dict[int, list[Commitment]] = {initiative_id: [] for initiative_id in initiative_ids}
    can_stall = select(Commitment).where(among(session, Commitment.initiative_id, initiative_ids), Commitment.status.in_(health.CAN_STALL))
    for commitment in session.scalars(can_stall.order_by(Commitment.id)):
        stalling[commitment.initiative_id].append(commitment)
    known = _Known.of(session, due, now)
    deciding = _Deciding(session, settings, now, people, known)
    try:  # the whole batch at once; one failing pair makes it go again pair by pair
        # No flush pair by pair: the batch's changes to its pairs go out together at the end.
        with session.begin_nested(), session.no_autoflush:
            deliveries = [d for pair in due for d in _moved_on(pair, now, deciding.decide(pair, by_id, stalling))]
            if not dry_run:
                _write_all(session, due, known.ended)
            for pair in due:  # written, or not to be: no flush may write them (again)
                session.expunge(pair)
    except fatal:
        raise
    except Exception:
        log.warning("a batch of %d pairs could not be decided at once; deciding them one by one", len(due), exc_info=True)
        session.expire_all()
        deliveries = _pair_by_pair(replace(deciding, known=None), due, by_id, stalling, fatal)
    return Batch(deliveries, len(due), last if len(due) == limit else None)


# What a sweep decides about a pair: the columns it writes, and nothing else (activity, which
# may arrive meanwhile on a pair not locked by a dry run, is written by others).
_SWEPT = ("state", "nudge_round", "nudge_level", "last_nudged_at", "snoozed_until", "blocked_by", "next_check_at")


def _write_all(session: Session, pairs: Sequence[Pair], ended: Sequence[int]) -> None:
    """The batch's decisions in one statement rather than the unit of work's statements grouped
    by which columns changed, pair by pair: on Postgres an UPDATE from one array per column (a
    statement of eight parameters whatever the batch), on SQLite (in process) one UPDATE run for
    every pair. The caller then takes the pairs out of the session, so that no flush writes them
    a second time."""
    if ended:  # first: once the pairs leave the session, nothing may fail and send the batch to the slow path
        cancel_waiting(session, ended)
    names = ("id", *_SWEPT)
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(_unnest_update(bind.dialect, names), {name: [getattr(pair, name) for pair in pairs] for name in names})
    else:  # a plain UPDATE by key run for each pair: none of the ORM's bookkeeping of a bulk update
        table = cast(Table, Pair.__table__)
        by_id = update(table).where(table.c.id == bindparam("pair_id"))
        by_id = by_id.values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in _SWEPT})
        rows = [{"pair_id": pair.id, **{f"new_{name}": getattr(pair, name) for name in _SWEPT}} for pair in pairs]
        session.connection().execute(by_id, rows)


def _unnest_update(dialect: Dialect, names: Sequence[str]) -> TextClause:
    table = Pair.__table__
    arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect)}[])" for name in names)
    assignments = ", ".join(f"{name} = decided.{name}" for name in names if name != "id")
    pairs = Pair.__tablename__
    return text(f"UPDATE {pairs} SET {assignments} FROM unnest({arrays}) AS decided({', '.join(names)}) WHERE {pairs}.id = decided.id")


class First(NamedTuple):
    """What deciding a pair reads of the first nudge of its round (read as rows, not objects)."""

    status: str
    sent_at: datetime | None
    claimed_at: datetime
    not_before: datetime


_FIRST = (Nudge.status, Nudge.sent_at, Nudge.claimed_at, Nudge.not_before)


@dataclass
class _Known:
    """What the batch's pairs need from the nudges table, read in two queries for all of them."""

    firsts: dict[str, First]  # the level-1 nudge of each pair's current round, by key
    recent: dict[int, list[datetime]]  # level-1 nudges claimed within CAP_WINDOW, by pair
    ended: list[int] = field(default_factory=list)  # pairs whose round ended: their waiting nudges are cancelled together

    @classmethod
    def of(cls, session: Session, pairs: Sequence[Pair], now: datetime) -> _Known:
        keys = [pair_key(pair.id, pair.nudge_round, 1) for pair in pairs if pair.nudge_level >= 1]
        firsts: dict[str, First] = {}
        if keys:
            for key, status, sent_at, claimed_at, not_before in session.execute(
                select(Nudge.key, *_FIRST).where(among(session, Nudge.key, keys))
            ):
                firsts[key] = First(status, sent_at, claimed_at, not_before)
        recent: dict[int, list[datetime]] = {}
        rows = session.execute(
            select(Nudge.pair_id, Nudge.claimed_at).where(
                among(session, Nudge.pair_id, [pair.id for pair in pairs]),
                Nudge.level == 1,
                Nudge.status != CANCELLED,
                Nudge.claimed_at > now - CAP_WINDOW,
            )
        )
        for pair_id, claimed_at in rows:
            if pair_id is not None:
                recent.setdefault(pair_id, []).append(claimed_at)
        return cls(firsts, recent)


def _moved_on(pair: Pair, now: datetime, decided: list[Delivery]) -> list[Delivery]:
    """What was decided about `pair`, which is never left due: the next batch would read it again."""
    if pair.next_check_at is not None and pair.next_check_at <= now:
        pair.next_check_at = now + timedelta(minutes=1)
    return decided


def _pair_by_pair(
    deciding: _Deciding,
    due: Sequence[Pair],
    by_id: dict[int, Initiative],
    stalling: dict[int, list[Commitment]],
    fatal: tuple[type[Exception], ...],
) -> list[Delivery]:
    """The batch again, each pair under its own savepoint: the one that fails is logged, rolled
    back alone and looked at again after RETRY_FAILED; the others are decided as usual."""
    deliveries: list[Delivery] = []
    now = deciding.now
    for pair in due:
        pair_id, initiative_id = pair.id, pair.initiative_id
        try:
            with deciding.session.begin_nested():
                deliveries += _moved_on(pair, now, deciding.decide(pair, by_id, stalling))
        except fatal:
            raise
        except Exception:
            log.exception("pair %s of initiative %s could not be swept; skipped until %s", pair_id, initiative_id, now + RETRY_FAILED)
            pair.next_check_at = now + RETRY_FAILED
    return deliveries


def _begin_for_savepoints(session: Session) -> None:
    """Make the per-pair savepoints nest in the batch's transaction on SQLite too.

    pysqlite begins a transaction only at the first write, and a SAVEPOINT outside one begins
    a transaction of its own that its RELEASE commits: pairs would be committed before their
    claims. BEGIN IMMEDIATE begins it now and takes SQLite's single write lock, which a sweep
    took at its first write anyway; sweeps on SQLite take turns.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not getattr(connection.connection.dbapi_connection, "in_transaction", True):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True)
class _Deciding:
    """What deciding any pair of a batch takes besides the pair: `known` is what was read of the
    nudges for the whole batch (None pair by pair, when each pair reads its own)."""

    session: Session
    settings: Settings
    now: datetime
    people: People
    known: _Known | None = None

    @property
    def ended(self) -> list[int] | None:
        return self.known.ended if self.known is not None else None

    def decide(self, pair: Pair, by_id: dict[int, Initiative], stalling: dict[int, list[Commitment]]) -> list[Delivery]:
        return _decide(self, pair, by_id[pair.initiative_id], stalling[pair.initiative_id])


def _decide(deciding: _Deciding, pair: Pair, initiative: Initiative, stalling: Sequence[Commitment]) -> list[Delivery]:
    """What to do about one due pair; `stalling` holds the initiative's commitments that can
    stall a pair (health.CAN_STALL), or more."""
    session, settings, now, known = deciding.session, deciding.settings, deciding.now, deciding.known
    if not rules.is_open(initiative) or not all(key in settings.functions for key in pair.functions):
        # A closed initiative, or a function no longer configured: looked at again weekly, in
        # case the initiative reopens or the function comes back.
        pair.next_check_at = now + RECHECK
        return []
    assessed = health.assess(pair, stalling, now, settings)
    if not assessed.stalled:
        if pair.nudge_level:
            end_round(session, pair, ended=deciding.ended)
        pair.state = assessed.state
        pair.next_check_at = assessed.changes_at
        return []
    if pair.snoozed_until is not None:
        if pair.snoozed_until > now:
            pair.state, pair.next_check_at = health.SNOOZED, pair.snoozed_until
            return []
        pair.snoozed_until = None
    first: First | None = None
    if pair.nudge_level >= 1:
        key = pair_key(pair.id, pair.nudge_round, 1)
        if known is not None:
            first = known.firsts.get(key)
        else:
            found = session.execute(select(*_FIRST).where(Nudge.key == key)).first()
            first = First(*found) if found is not None else None
        met_since = first is not None and pair.last_joint_activity_at is not None and pair.last_joint_activity_at > _nudged_at(first)
        if first is None or first.status == CANCELLED or met_since:
            end_round(session, pair, ended=deciding.ended)  # they met after the nudge, yet something is still wrong: a new round
    if pair.nudge_level == 0:
        return _nudge_pair(deciding, pair, initiative, assessed)
    assert first is not None
    week = WorkWeek.of(settings.nudges)
    if pair.nudge_level == 1:
        if first.status == CLAIMED:  # still waiting for its working hour: see how it went a day later
            pair.state, pair.next_check_at = health.STALLED, max(first.not_before, now) + timedelta(days=1)
            return []
        since = _nudged_at(first)
        pair.last_nudged_at = first.sent_at or pair.last_nudged_at
        if pair.blocked_by or week.working_days_between(since, now, settings.tz) >= settings.nudges.escalate_after_days:
            return _escalate(deciding, pair, initiative, assessed)
        pair.state = health.STALLED
        pair.next_check_at = week.add_working_days(since, settings.nudges.escalate_after_days, settings.tz)
        return []
    pair.state, pair.next_check_at = health.ESCALATED, now + RECHECK
    return []


def _nudged_at(nudge: First) -> datetime:
    """When a nudge reached (or failed to reach) its people: the escalation clock starts there."""
    return nudge.sent_at or nudge.claimed_at


def end_round(session: Session, pair: Pair, *, ended: list[int] | None = None) -> None:
    """Close the pair's round; what it still had waiting to be sent is not sent. A sweep's batch
    passes `ended` to collect its pairs and cancel what they had waiting in one statement."""
    if ended is None:
        cancel_waiting(session, [pair.id])
    else:
        ended.append(pair.id)
    pair.nudge_round = (pair.nudge_round or 0) + 1
    pair.nudge_level = 0
    pair.blocked_by = None


def cancel_waiting(session: Session, pair_ids: Sequence[int]) -> None:
    """Cancel the nudges these pairs still have waiting to be sent.

    Nudges a sender holds right now (locked, or leased while it posts) are skipped, not waited
    for: that sender checks the round again before posting, or has posted already.
    """
    waiting = (
        select(Nudge.id)
        .where(among(session, Nudge.pair_id, pair_ids), Nudge.status == CLAIMED, not_in_flight())
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(waiting))
    if ids:
        session.execute(
            update(Nudge)
            .where(among(session, Nudge.id, ids), Nudge.status == CLAIMED, not_in_flight())
            .values(status=CANCELLED, error="the round ended before it was sent")
            .execution_options(synchronize_session=False)
        )


def _nudge_pair(deciding: _Deciding, pair: Pair, initiative: Initiative, assessed: Health) -> list[Delivery]:
    session, settings, now, people, known = deciding.session, deciding.settings, deciding.now, deciding.people, deciding.known
    pair.state = health.STALLED
    if known is not None:
        recent = sorted(set(known.recent.get(pair.id, [])))
    else:
        query = select(Nudge.claimed_at).where(
            Nudge.pair_id == pair.id, Nudge.level == 1, Nudge.status != CANCELLED, Nudge.claimed_at > now - CAP_WINDOW
        )
        recent = sorted(set(session.scalars(query)))  # a round told in two messages counts once
    cap = settings.nudges.max_per_pair_per_week
    if len(recent) >= cap:
        pair.next_check_at = recent[len(recent) - cap] + CAP_WINDOW  # when one of them ages out
        return []
    leads = leads_of(settings, pair.functions)
    week = WorkWeek.of(settings.nudges)
    common = week.first_common(now, [people.zone(lead) for lead in leads])
    # Leads whose working hours never meet are each mentioned in their own hours, in a message
    # of their own; the first of those carries the round's key, which the escalation reads.
    if common is not None or len(leads) < 2:
        groups = [(tuple(leads), common if common is not None else now)]
    else:
        groups = [((lead,), week.next_working(now, people.zone(lead))) for lead in leads]
    pair.nudge_level = 1
    pair.next_check_at = min(moment for _, moment in groups) + timedelta(days=1)
    return [
        Delivery(
            key=pair_key(pair.id, pair.nudge_round, 1, None if n == 0 else recipients[0]),
            kind=PAIR,
            level=1,
            channel=initiative.hub_channel or settings.hub.channel,
            recipients=recipients,
            not_before=moment,
            initiative_id=initiative.id,
            pair_id=pair.id,
            functions=pair.functions,
            payload=_payload(pair, assessed),
        )
        for n, (recipients, moment) in enumerate(groups)
    ]


def escalation_recipients(initiative: Initiative, settings: Settings, people: People) -> list[str]:
    """The sponsor; else (none, or gone) the executives."""
    if initiative.sponsor and people.reachable(initiative.sponsor):
        return [initiative.sponsor]
    return [user for user in settings.hub.executives if people.reachable(user)]


def _escalate(deciding: _Deciding, pair: Pair, initiative: Initiative, assessed: Health) -> list[Delivery]:
    settings, now, people = deciding.settings, deciding.now, deciding.people
    pair.nudge_level, pair.state, pair.next_check_at = 2, health.ESCALATED, now + RECHECK
    recipients = escalation_recipients(initiative, settings, people)
    if not recipients:
        log.warning("pair %s of initiative %s is stalled but has no sponsor or executive to tell", pair.id, initiative.id)
    week = WorkWeek.of(settings.nudges)
    return [
        Delivery(
            key=pair_key(pair.id, pair.nudge_round, 2, user),
            kind=EXECUTIVE,
            level=2,
            channel=user,
            recipients=(user,),
            not_before=week.next_working(now, people.zone(user)),
            initiative_id=initiative.id,
            pair_id=pair.id,
            functions=pair.functions,
            payload=_payload(pair, assessed),
        )
        for user in recipients
    ]


def _payload(pair: Pair, assessed: Health) -> dict[str, Any]:
    """What the nudge said when it was planned, for audit (it is rendered fresh when sent)."""
    return {
        "round": pair.nudge_round,
        "functions": list(pair.functions),
        "silent_days": list(assessed.silent_days),
        "overdue": [item.id for item in assessed.overdue],
        "blocked_by": pair.blocked_by,
    }


def people_to_know(session: Session, settings: Settings, now: datetime) -> set[str]:
    """Everyone a sweep as of `now` may address, so their time zones can be read first."""
    people = {*settings.hub.executives, *settings.hub.staff}
    people |= {lead for function in settings.functions.values() for lead in function.leads}
    people |= set(
        session.scalars(
            select(Initiative.sponsor)
            .join(Pair, Pair.initiative_id == Initiative.id)
            .where(Pair.next_check_at <= now, Initiative.sponsor.is_not(None))
            .distinct()
        )
    )
    people |= set(session.scalars(select(Nudge.channel).where(Nudge.status == CLAIMED, Nudge.kind != PAIR).distinct()))
    return {person for person in people if person}
