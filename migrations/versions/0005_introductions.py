"""Introductions: two functions that never meet, introduced to each other by the hub.

Revision ID: 0005_introductions
Revises: 0004 (privacy)
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_introductions"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "introductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("function_a", sa.String(length=40), nullable=False),
        sa.Column("function_b", sa.String(length=40), nullable=False),
        sa.Column("idea_title", sa.String(length=200), nullable=False),
        sa.Column("idea_problem", sa.Text(), nullable=False),
        sa.Column("idea_journey", sa.String(length=16), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("last_met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("initiative_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["initiative_id"], ["initiatives.id"], name=op.f("fk_introductions_initiative_id_initiatives"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_introductions")),
        sa.UniqueConstraint("key", name=op.f("uq_introductions_key")),
    )
    with op.batch_alter_table("introductions", schema=None) as batch_op:
        batch_op.create_index("ix_introductions_functions", ["function_a", "function_b"], unique=False)
        batch_op.create_index("ix_introductions_claimed_at", ["claimed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("introductions", schema=None) as batch_op:
        batch_op.drop_index("ix_introductions_claimed_at")
        batch_op.drop_index("ix_introductions_functions")
    op.drop_table("introductions")
