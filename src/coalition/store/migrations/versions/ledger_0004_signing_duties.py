"""ledger: who may sign what (consignee, issuer) and the per-nation chains of completeness.

``inv_manifest.receiver``: the nation named on the manifest as consignee; only it signs the
receipt. ``inv_serial.issued_by``: the nation that issued a serial to an end user; only it (or the
title holder) takes it back. Both are projections of signed events (docs/ledger.md).
``ledger_nation_head``: the head (counter, last hash, last seq) of each title-holder nation's chain
inside the log, which makes donor bundles provably complete (derived; verify recomputes it).

Revision ID: ledger_0004
Revises: ledger_0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "ledger_0004"
down_revision = "ledger_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_nation_head",
        sa.Column("nation", sa.String(length=3), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.LargeBinary(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("nation", name="pk_ledger_nation_head"),
    )
    with op.batch_alter_table("inv_manifest") as batch:
        batch.add_column(sa.Column("receiver", sa.String(length=3), nullable=False, server_default=""))
    with op.batch_alter_table("inv_serial") as batch:
        batch.add_column(sa.Column("issued_by", sa.String(length=3), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("inv_serial") as batch:
        batch.drop_column("issued_by")
    with op.batch_alter_table("inv_manifest") as batch:
        batch.drop_column("receiver")
    op.drop_table("ledger_nation_head")
