"""ledger: who may sign what — the consignee of a manifest and the issuer of a serial.

``inv_manifest.receiver``: the nation named on the manifest as consignee; only it signs the
receipt. ``inv_serial.issued_by``: the nation that issued a serial to an end user; only it (or the
title holder) takes it back. Both are projections of signed events (docs/ledger.md).

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
    with op.batch_alter_table("inv_manifest") as batch:
        batch.add_column(sa.Column("receiver", sa.String(length=3), nullable=False, server_default=""))
    with op.batch_alter_table("inv_serial") as batch:
        batch.add_column(sa.Column("issued_by", sa.String(length=3), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("inv_serial") as batch:
        batch.drop_column("issued_by")
    with op.batch_alter_table("inv_manifest") as batch:
        batch.drop_column("receiver")
