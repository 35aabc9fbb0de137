"""planner: a run has a kind ('plan', or another package's, e.g. 'analysis'), so other kinds of
run share the rows, queue, quota, cancel and reuse of plan runs; existing rows are plans.

Revision ID: planner_0002
Revises: planner_0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "planner_0002"
down_revision = "planner_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("planner_run") as batch:
        batch.add_column(sa.Column("kind", sa.String(24), nullable=False, server_default="plan"))
    op.create_index("ix_planner_run_kind_id", "planner_run", ["kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_planner_run_kind_id", table_name="planner_run")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite >= 3.35 drops a plain column in place. Batch mode would copy the table and drop
        # the old one, which the foreign keys from other tables to planner_run refuse.
        op.execute("ALTER TABLE planner_run DROP COLUMN kind")
    else:
        op.drop_column("planner_run", "kind")
