"""Obstacles: which configured obstacles hold each initiative back, and why each was linked.

Revision ID: 0006_obstacles
Revises: 0005_introductions
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_obstacles"
down_revision = "0005_introductions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "initiative_obstacles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("obstacle_key", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_obstacles_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_obstacles")),
        sa.UniqueConstraint("initiative_id", "obstacle_key", name=op.f("uq_initiative_obstacles_initiative_id_obstacle_key")),
    )
    op.create_index("ix_initiative_obstacles_key", "initiative_obstacles", ["obstacle_key", "initiative_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_initiative_obstacles_key", table_name="initiative_obstacles")
    op.drop_table("initiative_obstacles")
