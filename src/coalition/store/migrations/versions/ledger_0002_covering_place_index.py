"""ledger: make the inventory grouping index covering (adds unit_value).

The default inventory query groups serials by hub, depot, storehouse, title nation and status and
sums their value; with unit_value in the index the database answers it from the index alone, in
index order, without touching the table or sorting (benchmarks/bench_ledger.py, 1,000,000 items).

Revision ID: ledger_0002
Revises: ledger_0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "ledger_0002"
down_revision = "ledger_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_inv_serial_place", table_name="inv_serial")
    op.create_index(
        "ix_inv_serial_place",
        "inv_serial",
        ["hub", "depot", "storehouse", "title_nation", "status", "unit_value"],
    )


def downgrade() -> None:
    op.drop_index("ix_inv_serial_place", table_name="inv_serial")
    op.create_index("ix_inv_serial_place", "inv_serial", ["hub", "depot", "storehouse", "title_nation", "status"])
