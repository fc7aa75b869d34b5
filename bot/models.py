"""The stored concepts of the hub. Functions themselves are configuration, referred to by key.

Every time is aware UTC in Python; `UTCDateTime` keeps it so on SQLite, which has no time zones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out; naive datetimes are refused so none slip in unnoticed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where aware UTC is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Initiative(Base):
    __tablename__ = "initiatives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text, default="")
    journey: Mapped[str] = mapped_column(String(16))
    obstacles: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="proposed", index=True)
    proposer: Mapped[str | None] = mapped_column(String(32), index=True)  # None once forgotten
    sponsor: Mapped[str | None] = mapped_column(String(32))
    target_date: Mapped[date | None] = mapped_column(Date)
    source_channel: Mapped[str | None] = mapped_column(String(32))
    source_permalink: Mapped[str | None] = mapped_column(Text)
    hub_channel: Mapped[str | None] = mapped_column(String(32))
    hub_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    functions: Mapped[list[InitiativeFunction]] = relationship(
        back_populates="initiative", cascade="all, delete-orphan", order_by="InitiativeFunction.id"
    )
    pairs: Mapped[list[Pair]] = relationship(back_populates="initiative", cascade="all, delete-orphan", order_by="Pair.id")
    commitments: Mapped[list[Commitment]] = relationship(
        back_populates="initiative", cascade="all, delete-orphan", order_by="Commitment.id"
    )
    obstacle_links: Mapped[list[InitiativeObstacle]] = relationship(
        back_populates="initiative", cascade="all, delete-orphan", order_by="InitiativeObstacle.id"
    )

    __table_args__ = (Index("ix_initiatives_hub_thread", "hub_channel", "hub_ts"),)

    @property
    def function_keys(self) -> list[str]:
        return [involved.function_key for involved in self.functions]


class InitiativeFunction(Base):
    """One function involved in an initiative: why it was chosen and where it was routed."""

    __tablename__ = "initiative_functions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    function_key: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    route_channel: Mapped[str | None] = mapped_column(String(32))
    route_ts: Mapped[str | None] = mapped_column(String(32))
    route_status: Mapped[str] = mapped_column(String(16), default="pending")
    route_error: Mapped[str | None] = mapped_column(Text)

    initiative: Mapped[Initiative] = relationship(back_populates="functions")

    __table_args__ = (
        UniqueConstraint("initiative_id", "function_key"),
        Index("ix_initiative_functions_route", "route_channel", "route_ts"),
    )


class InitiativeObstacle(Base):
    """An obstacle (by its configured key) that holds an initiative back, and why it is linked:
    a keyword found in the proposal, or a choice made on the hub card."""

    __tablename__ = "initiative_obstacles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    obstacle_key: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    initiative: Mapped[Initiative] = relationship(back_populates="obstacle_links")

    # The ledger counts initiatives per obstacle: by key first.
    __table_args__ = (
        UniqueConstraint("initiative_id", "obstacle_key"),
        Index("ix_initiative_obstacles_key", "obstacle_key", "initiative_id"),
    )


class Pair(Base):
    """An unordered pair of functions on one initiative (`function_a` < `function_b`)."""

    __tablename__ = "pairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    function_a: Mapped[str] = mapped_column(String(40))
    function_b: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16), default="active")
    last_activity_a: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_b: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_joint_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A round is one stall and the nudges it earned: level 1 (the pair), then 2 (executives).
    # It ends when the pair recovers, is snoozed or is nudged again; nudge keys name it.
    nudge_round: Mapped[int] = mapped_column(Integer, default=0)
    nudge_level: Mapped[int] = mapped_column(Integer, default=0)
    last_nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_by: Mapped[str | None] = mapped_column(String(32))  # asked for an executive now
    # The sweep reads only pairs whose next_check_at has passed, through this index.
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    initiative: Mapped[Initiative] = relationship(back_populates="pairs")

    __table_args__ = (
        UniqueConstraint("initiative_id", "function_a", "function_b"),
        Index("ix_pairs_next_check_at", "next_check_at"),
        Index("ix_pairs_functions", "function_a", "function_b"),
    )

    @property
    def functions(self) -> tuple[str, str]:
        return (self.function_a, self.function_b)


class Commitment(Base):
    """A promise from one function to another on one initiative, or a request for one.

    A request (`requested_by` set) asks `from_function` for something: it has no owner until
    someone of that function accepts it, or proposes another date (`proposed_due`,
    `proposed_by`) that the asker accepts; then it is a promise like any other."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    from_function: Mapped[str] = mapped_column(String(40))
    to_function: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str | None] = mapped_column(String(32), index=True)  # None: the function's, its owner forgotten
    what: Mapped[str] = mapped_column(Text)
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    requested_by: Mapped[str | None] = mapped_column(String(32))
    proposed_due: Mapped[date | None] = mapped_column(Date)
    proposed_by: Mapped[str | None] = mapped_column(String(32))
    hub_channel: Mapped[str | None] = mapped_column(String(32))
    hub_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    initiative: Mapped[Initiative] = relationship(back_populates="commitments")
    history: Mapped[list[CommitmentChange]] = relationship(
        back_populates="commitment", cascade="all, delete-orphan", order_by="CommitmentChange.id"
    )

    __table_args__ = (Index("ix_commitments_status_due", "status", "due"),)


class CommitmentChange(Base):
    __tablename__ = "commitment_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str | None] = mapped_column(String(32))  # None once forgotten
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    old_due: Mapped[date | None] = mapped_column(Date)
    new_due: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    commitment: Mapped[Commitment] = relationship(back_populates="history")


class Activity(Base):
    """Something a person did on an initiative, attributed to one of their functions. Kept for
    `[privacy] activity_retention_days`; what the pairs need of it is in the pair rows."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    function_key: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_activities_initiative_function_at", "initiative_id", "function_key", "at"),
        Index("ix_activities_at", "at"),  # retention removes the oldest
        Index("ix_activities_user_id", "user_id"),  # a person's export and erasure
    )


class Nudge(Base):
    """Every nudge, escalation and digest: claimed under a unique key before it is sent."""

    __tablename__ = "nudges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer, default=0)
    initiative_id: Mapped[int | None] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="claimed")  # claimed, sent, failed, cancelled
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Not sent before this moment: the recipients' next working hour.
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The sweep's outbox: claimed nudges whose moment has come.
    __table_args__ = (Index("ix_nudges_status_not_before", "status", "not_before"),)


class ProcessedEvent(Base):
    """Slack events by event_id: the inbox of events stored before Slack is answered
    (`pending`, with their payload), and those handled (`done`), where retries and duplicate
    deliveries stop."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), default="done", server_default="done")  # pending, done
    payload: Mapped[dict | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_processed_events_status", "status"),)


class SlackUser(Base):
    """users.info, cached: time zone for working hours, bot and deactivated flags."""

    __tablename__ = "slack_users"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tz: Mapped[str | None] = mapped_column(String(64))
    is_bot: Mapped[bool] = mapped_column(default=False)
    deleted: Mapped[bool] = mapped_column(default=False)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Outbox(Base):
    """Every message the hub owes, recorded before it is sent (see bot/app/outbox.py).

    `key` names the message once and for all (`card:12`, `route:12:it`, `mirror:Ev01`), so
    recording it twice records it once; a row is sent by whoever holds its lease.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    initiative_id: Mapped[int | None] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)


class Introduction(Base):
    """Two functions that never meet, introduced to each other in a group DM to their leads.

    `key` (`intro:hr:marketing:3`, the pair's third) is claimed once, whoever plans it; the
    message itself goes through the outbox (`introduction:<id>`). `answer` is what a lead
    did with it: `not_now`, or `proposed` (the initiative it became is `initiative_id`)."""

    __tablename__ = "introductions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    function_a: Mapped[str] = mapped_column(String(40))
    function_b: Mapped[str] = mapped_column(String(40))
    idea_title: Mapped[str] = mapped_column(String(200))
    idea_problem: Mapped[str] = mapped_column(Text, default="")
    idea_journey: Mapped[str] = mapped_column(String(16))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="claimed")  # claimed, sent, failed, cancelled
    answer: Mapped[str | None] = mapped_column(String(16))
    answered_by: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    initiative_id: Mapped[int | None] = mapped_column(ForeignKey("initiatives.id", ondelete="SET NULL"))
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_introductions_functions", "function_a", "function_b"),
        Index("ix_introductions_claimed_at", "claimed_at"),
    )

    @property
    def functions(self) -> tuple[str, str]:
        return (self.function_a, self.function_b)
