"""Promises and requests: a commitment may start as a request to a function, which has no
owner until someone of that function accepts it (or the asker accepts another date).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.alter_column("owner", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("requested_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("proposed_due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("proposed_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    # The older schema knows no requests: one still waiting, or declined, goes back as a
    # cancelled commitment of the person who asked, so that every row keeps an owner.
    commitments = sa.table(
        "commitments",
        sa.column("owner", sa.String),
        sa.column("requested_by", sa.String),
        sa.column("status", sa.String),
    )
    op.execute(
        commitments.update()
        .where(commitments.c.status.in_(("requested", "declined")))
        .values(status="cancelled", owner=sa.func.coalesce(commitments.c.owner, commitments.c.requested_by))
    )
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_column("proposed_by")
        batch_op.drop_column("proposed_due")
        batch_op.drop_column("requested_by")
        batch_op.alter_column("owner", existing_type=sa.String(length=32), nullable=False)
