"""planner: a plan's human name (optional, at most 120 characters; marked as the nation of
whoever set it) and its pin (who pinned it, when); pinned plans list first.

Existing rows have no name and are not pinned.

Revision ID: planner_0003
Revises: planner_0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "planner_0003"
down_revision = "planner_0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
COLUMNS = ("name", "name_nation", "pinned", "pinned_by", "pinned_at")
INDEX = "ix_planner_run_kind_pinned_id"


def upgrade() -> None:
    # Plain ADD COLUMN on both back ends (no batch mode: on SQLite it would copy the table for
    # the expression default and drop the old one, which the foreign keys to it refuse).
    op.add_column("planner_run", sa.Column("name", sa.String(120), nullable=True))
    op.add_column("planner_run", sa.Column("name_nation", sa.String(3), nullable=True))
    op.add_column("planner_run", sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("planner_run", sa.Column("pinned_by", sa.String(64), nullable=True))
    op.add_column("planner_run", sa.Column("pinned_at", TZ, nullable=True))
    op.create_index(INDEX, "planner_run", ["kind", "pinned", "id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="planner_run")
    if op.get_bind().dialect.name == "sqlite":
        # In place, as planner_0002 does: batch mode would copy the table and drop the old one,
        # which the foreign keys from other tables to planner_run refuse.
        for column in reversed(COLUMNS):
            op.execute(f"ALTER TABLE planner_run DROP COLUMN {column}")
    else:
        for column in reversed(COLUMNS):
            op.drop_column("planner_run", column)
