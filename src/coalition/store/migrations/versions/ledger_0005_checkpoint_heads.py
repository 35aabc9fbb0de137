"""ledger: each checkpoint commits to every nation's chain head (an extension line of its note).

``ledger_checkpoint.heads``: the checkpoint's ``coalition-ledger/nation-heads/v1`` extension line
(count and Merkle root of the per-nation chain heads at its size; docs/ledger.md, completeness).
Null for checkpoints signed before this revision (their notes have no extension line).

Revision ID: ledger_0005
Revises: ledger_0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "ledger_0005"
down_revision = "ledger_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_checkpoint") as batch:
        batch.add_column(sa.Column("heads", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_checkpoint") as batch:
        batch.drop_column("heads")
