"""ledger: a batch may hold non-contiguous events (one signed batch per nation per append call).

``ledger_batch.runs``: the canonical JSON runs ``[[first seq, length], ...]`` of a batch whose
events are not contiguous, signed in its ``coalition-ledger/batch/v3`` statement. Null for every
batch written before this revision (contiguous, ``coalition-ledger/batch/v2``), which verify as
before.

Revision ID: ledger_0006
Revises: ledger_0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "ledger_0006"
down_revision = "ledger_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ledger_batch", sa.Column("runs", sa.Text(), nullable=True))


def downgrade() -> None:
    # a downgraded ledger cannot hold v3 batches: refuse rather than silently break their proofs
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM ledger_batch WHERE runs IS NOT NULL")).scalar():
        raise RuntimeError(
            "ledger_batch holds non-contiguous (v3) batches; they cannot be represented before ledger_0006"
        )
    if bind.dialect.name == "sqlite":
        # in place (SQLite >= 3.35): batch mode would copy and drop the table, which the foreign
        # key from ledger_signature refuses
        op.execute("ALTER TABLE ledger_batch DROP COLUMN runs")
    else:
        op.drop_column("ledger_batch", "runs")
