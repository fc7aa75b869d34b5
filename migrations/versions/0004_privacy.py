"""People's data: a proposer, a commitment's owner and a change's actor may be forgotten (None),
and activity is found by age (retention) and by person (export and erasure).

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FORGOTTEN = "forgotten"  # what a forgotten person becomes if the schema is taken back down


def upgrade() -> None:
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.alter_column("proposer", existing_type=sa.String(length=32), nullable=True)
    # commitments.owner may be empty since 0003 (a request nobody has accepted yet).
    with op.batch_alter_table("commitment_changes", schema=None) as batch_op:
        batch_op.alter_column("actor", existing_type=sa.String(length=32), nullable=True)
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index("ix_activities_at", ["at"], unique=False)
        batch_op.create_index("ix_activities_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index("ix_activities_user_id")
        batch_op.drop_index("ix_activities_at")
    # A promise whose owner was forgotten: 0003's schema still lets a request have no owner.
    op.execute(
        sa.text("UPDATE commitments SET owner = :forgotten WHERE owner IS NULL AND status NOT IN ('requested', 'declined')").bindparams(
            forgotten=FORGOTTEN
        )
    )
    for table, column in (("commitment_changes", "actor"), ("initiatives", "proposer")):
        op.execute(sa.text(f"UPDATE {table} SET {column} = :forgotten WHERE {column} IS NULL").bindparams(forgotten=FORGOTTEN))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=32), nullable=False)
