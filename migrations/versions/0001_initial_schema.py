"""Initial schema: initiatives, their functions and routes, pairs, commitments and their
history, activity, nudges, processed Slack events and the users.info cache.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "initiatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("journey", sa.String(length=16), nullable=False),
        sa.Column("obstacles", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposer", sa.String(length=32), nullable=False),
        sa.Column("sponsor", sa.String(length=32), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("source_channel", sa.String(length=32), nullable=True),
        sa.Column("source_permalink", sa.Text(), nullable=True),
        sa.Column("hub_channel", sa.String(length=32), nullable=True),
        sa.Column("hub_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiatives")),
    )
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.create_index("ix_initiatives_hub_thread", ["hub_channel", "hub_ts"], unique=False)
        batch_op.create_index(batch_op.f("ix_initiatives_proposer"), ["proposer"], unique=False)
        batch_op.create_index(batch_op.f("ix_initiatives_status"), ["status"], unique=False)

    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_events")),
    )
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processed_events_received_at"), ["received_at"], unique=False)

    op.create_table(
        "slack_users",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_slack_users")),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("function_key", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"], ["initiatives.id"], name=op.f("fk_activities_initiative_id_initiatives"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index("ix_activities_initiative_function_at", ["initiative_id", "function_key", "at"], unique=False)

    op.create_table(
        "commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("from_function", sa.String(length=40), nullable=False),
        sa.Column("to_function", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hub_channel", sa.String(length=32), nullable=True),
        sa.Column("hub_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"], ["initiatives.id"], name=op.f("fk_commitments_initiative_id_initiatives"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
    )
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commitments_initiative_id"), ["initiative_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_commitments_owner"), ["owner"], unique=False)
        batch_op.create_index("ix_commitments_status_due", ["status", "due"], unique=False)

    op.create_table(
        "initiative_functions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("function_key", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("route_channel", sa.String(length=32), nullable=True),
        sa.Column("route_ts", sa.String(length=32), nullable=True),
        sa.Column("route_status", sa.String(length=16), nullable=False),
        sa.Column("route_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["initiative_id"], ["initiatives.id"], name=op.f("fk_initiative_functions_initiative_id_initiatives"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_functions")),
        sa.UniqueConstraint("initiative_id", "function_key", name=op.f("uq_initiative_functions_initiative_id_function_key")),
    )
    with op.batch_alter_table("initiative_functions", schema=None) as batch_op:
        batch_op.create_index("ix_initiative_functions_route", ["route_channel", "route_ts"], unique=False)

    op.create_table(
        "pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("function_a", sa.String(length=40), nullable=False),
        sa.Column("function_b", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_activity_a", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity_b", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_joint_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("nudge_round", sa.Integer(), nullable=False),
        sa.Column("nudge_level", sa.Integer(), nullable=False),
        sa.Column("last_nudged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_by", sa.String(length=32), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["initiative_id"], ["initiatives.id"], name=op.f("fk_pairs_initiative_id_initiatives"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairs")),
        sa.UniqueConstraint("initiative_id", "function_a", "function_b", name=op.f("uq_pairs_initiative_id_function_a_function_b")),
    )
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.create_index("ix_pairs_functions", ["function_a", "function_b"], unique=False)
        batch_op.create_index("ix_pairs_next_check_at", ["next_check_at"], unique=False)

    op.create_table(
        "commitment_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("old_due", sa.Date(), nullable=True),
        sa.Column("new_due", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"], ["commitments.id"], name=op.f("fk_commitment_changes_commitment_id_commitments"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment_changes")),
    )
    with op.batch_alter_table("commitment_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commitment_changes_commitment_id"), ["commitment_id"], unique=False)

    op.create_table(
        "nudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=True),
        sa.Column("pair_id", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["initiative_id"], ["initiatives.id"], name=op.f("fk_nudges_initiative_id_initiatives"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"], name=op.f("fk_nudges_pair_id_pairs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudges")),
        sa.UniqueConstraint("key", name=op.f("uq_nudges_key")),
    )
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nudges_pair_id"), ["pair_id"], unique=False)
        batch_op.create_index("ix_nudges_status_not_before", ["status", "not_before"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.drop_index("ix_nudges_status_not_before")
        batch_op.drop_index(batch_op.f("ix_nudges_pair_id"))

    op.drop_table("nudges")
    with op.batch_alter_table("commitment_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitment_changes_commitment_id"))

    op.drop_table("commitment_changes")
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.drop_index("ix_pairs_next_check_at")
        batch_op.drop_index("ix_pairs_functions")

    op.drop_table("pairs")
    with op.batch_alter_table("initiative_functions", schema=None) as batch_op:
        batch_op.drop_index("ix_initiative_functions_route")

    op.drop_table("initiative_functions")
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index("ix_commitments_status_due")
        batch_op.drop_index(batch_op.f("ix_commitments_owner"))
        batch_op.drop_index(batch_op.f("ix_commitments_initiative_id"))

    op.drop_table("commitments")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index("ix_activities_initiative_function_at")

    op.drop_table("activities")
    op.drop_table("slack_users")
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_events_received_at"))

    op.drop_table("processed_events")
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiatives_status"))
        batch_op.drop_index(batch_op.f("ix_initiatives_proposer"))
        batch_op.drop_index("ix_initiatives_hub_thread")

    op.drop_table("initiatives")
